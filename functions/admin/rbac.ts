// Role-based access control: the seed's permission table, exactly.
import { GatewayError } from '../core/errors';
import type { AdminRole } from '../core/ports';

export const PERMISSIONS = ['tenant:read', 'tenant:write', 'tenant:delete', 'usage:read', 'admin:manage'] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ADMIN_ROLES: readonly AdminRole[] = ['admin', 'editor', 'viewer'];

const ROLE_PERMISSIONS: Readonly<Record<AdminRole, readonly Permission[]>> = {
  admin: ['tenant:read', 'tenant:write', 'tenant:delete', 'usage:read', 'admin:manage'],
  editor: ['tenant:read', 'tenant:write', 'usage:read'],
  viewer: ['tenant:read', 'usage:read'],
};

export function hasPermission(role: AdminRole, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}

/** The 403 for a caller whose role lacks `permission`. */
export function missingPermission(principal: { role: AdminRole }, permission: Permission): GatewayError {
  return new GatewayError(403, `Role "${principal.role}" lacks the permission "${permission}" that this route requires.`, {
    type: 'permission_error',
    code: 'insufficient_permissions',
  });
}

export function isAdminRole(value: unknown): value is AdminRole {
  return typeof value === 'string' && (ADMIN_ROLES as readonly string[]).includes(value);
}

/** Every permission a role has, in the table's order (the console offers only what these allow). */
export function permissionsOf(role: AdminRole): Permission[] {
  return [...ROLE_PERMISSIONS[role]];
}
