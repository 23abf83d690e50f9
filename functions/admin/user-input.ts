// Validation of admin-user bodies. Passwords are at least 12 characters; usernames cannot hold
// ':' (HTTP Basic splits on it) or anything else odd in a log line.
import type { AdminRole } from '../core/admin-ports';
import { invalid, rejectUnknown, requireObject, type JsonObject } from './input';
import { MAX_PASSWORD_LENGTH } from './passwords';
import { ADMIN_ROLES, isAdminRole } from './rbac';

export const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
export const MIN_PASSWORD_LENGTH = 12;

export interface UserCreateInput {
  username: string;
  password: string;
  role: AdminRole;
}

export interface UserUpdateInput {
  password?: string;
  role?: AdminRole;
}

export function parseUserCreate(body: unknown): UserCreateInput {
  const obj = requireObject(body);
  rejectUnknown(obj, ['username', 'password', 'role']);
  if (obj.username === undefined) throw invalid('username', 'required');
  if (obj.password === undefined) throw invalid('password', 'required');
  if (obj.role === undefined) throw invalid('role', 'required');
  return { username: username(obj.username), password: password(obj), role: role(obj) };
}

export function parseUserUpdate(body: unknown): UserUpdateInput {
  const obj = requireObject(body);
  rejectUnknown(obj, ['password', 'role']);
  const out: UserUpdateInput = {};
  if (obj.password !== undefined) out.password = password(obj);
  if (obj.role !== undefined) out.role = role(obj);
  return out;
}

export function username(v: unknown): string {
  if (typeof v !== 'string' || !USERNAME_PATTERN.test(v)) {
    throw invalid('username', 'expected 1-64 characters of letters, digits, ".", "_", "@" and "-"');
  }
  return v;
}

function password(obj: JsonObject): string {
  const v = obj.password;
  // The message never echoes the value.
  if (typeof v !== 'string' || v.length < MIN_PASSWORD_LENGTH || v.length > MAX_PASSWORD_LENGTH) {
    throw invalid('password', `expected a string of ${MIN_PASSWORD_LENGTH}-${MAX_PASSWORD_LENGTH} characters`);
  }
  return v;
}

function role(obj: JsonObject): AdminRole {
  const v = obj.role;
  if (!isAdminRole(v)) throw invalid('role', `expected one of ${ADMIN_ROLES.join(', ')}`);
  return v;
}
