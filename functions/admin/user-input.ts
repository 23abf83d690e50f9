// Validation of admin-user bodies. Passwords are at least 12 characters; usernames cannot hold
// ':' (HTTP Basic splits on it) or anything else odd in a log line.
import * as v from 'valibot';
import type { AdminRole } from '../core/ports';
import { parseBody } from './input';
import { MAX_PASSWORD_LENGTH } from './passwords';
import { ADMIN_ROLES } from './rbac';

export const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const MIN_PASSWORD_LENGTH = 12;

export interface UserCreateInput {
  username: string;
  password: string;
  role: AdminRole;
}

export interface UserUpdateInput {
  password?: string;
  role?: AdminRole;
}

const username = v.message(v.pipe(v.string(), v.regex(USERNAME_PATTERN)), 'expected 1-64 characters of letters, digits, ".", "_", "@" and "-"');

// The message never echoes the value.
const password = v.message(
  v.pipe(v.string(), v.minLength(MIN_PASSWORD_LENGTH), v.maxLength(MAX_PASSWORD_LENGTH)),
  `expected a string of ${MIN_PASSWORD_LENGTH}-${MAX_PASSWORD_LENGTH} characters`,
);

const role = v.picklist(ADMIN_ROLES, `expected one of ${ADMIN_ROLES.join(', ')}`);

const UserCreate = v.strictObject({ username, password, role });
const UserUpdate = v.strictObject({ password: v.optional(password), role: v.optional(role) });

export function parseUserCreate(body: unknown): UserCreateInput {
  return parseBody(UserCreate, body);
}

export function parseUserUpdate(body: unknown): UserUpdateInput {
  return parseBody(UserUpdate, body);
}
