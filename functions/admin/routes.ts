// The admin API's route table: method + path pattern → route name and the permission it needs.
// Matching is separate from the handlers so the RBAC middleware can refuse before any work.
import { GatewayError, notFound } from '../core/errors';
import type { Permission } from './rbac';

export type RouteName =
  | 'tenants.list'
  | 'tenants.create'
  | 'tenants.get'
  | 'tenants.update'
  | 'tenants.delete'
  | 'tenants.rotateKey'
  | 'tenants.usage'
  | 'tenants.alerts'
  | 'overview'
  | 'providers.list'
  | 'users.list'
  | 'users.create'
  | 'users.get'
  | 'users.update'
  | 'users.delete'
  | 'audit.list';

interface RouteDef {
  method: string;
  /** Path segments after /admin; `{x}` captures one segment. */
  pattern: string[];
  name: RouteName;
  permission: Permission;
}

const def = (method: string, path: string, name: RouteName, permission: Permission): RouteDef => ({
  method,
  pattern: path.split('/').filter(Boolean),
  name,
  permission,
});

export const ROUTES: readonly RouteDef[] = [
  def('GET', 'tenants', 'tenants.list', 'tenant:read'),
  def('POST', 'tenants', 'tenants.create', 'tenant:write'),
  def('GET', 'tenants/{id}', 'tenants.get', 'tenant:read'),
  def('PUT', 'tenants/{id}', 'tenants.update', 'tenant:write'),
  def('DELETE', 'tenants/{id}', 'tenants.delete', 'tenant:delete'),
  def('POST', 'tenants/{id}/rotate-key', 'tenants.rotateKey', 'tenant:write'),
  def('GET', 'tenants/{id}/usage', 'tenants.usage', 'usage:read'),
  def('GET', 'tenants/{id}/alerts', 'tenants.alerts', 'usage:read'),
  def('GET', 'overview', 'overview', 'usage:read'),
  def('GET', 'providers', 'providers.list', 'tenant:read'),
  def('GET', 'users', 'users.list', 'admin:manage'),
  def('POST', 'users', 'users.create', 'admin:manage'),
  def('GET', 'users/{username}', 'users.get', 'admin:manage'),
  def('PUT', 'users/{username}', 'users.update', 'admin:manage'),
  def('DELETE', 'users/{username}', 'users.delete', 'admin:manage'),
  def('GET', 'audit', 'audit.list', 'admin:manage'),
];

export interface MatchedRoute {
  name: RouteName;
  permission: Permission;
  params: Record<string, string>;
}

/** Finds the route, or throws 404 (no such path) / 405 (path exists, method does not). */
export function matchRoute(method: string, path: string): MatchedRoute {
  const segments = splitAdminPath(path);
  if (segments === null) throw notFound(`No admin route for ${path}.`);
  const allowed: string[] = [];
  for (const route of ROUTES) {
    const params = matchPattern(route.pattern, segments);
    if (params === null) continue;
    if (route.method === method) return { name: route.name, permission: route.permission, params };
    allowed.push(route.method);
  }
  if (allowed.length === 0) throw notFound(`No admin route for ${path}.`);
  throw new GatewayError(405, `Method ${method} is not allowed on ${path}; allowed: ${allowed.join(', ')}.`, {
    type: 'invalid_request_error',
    code: 'method_not_allowed',
    headers: { allow: allowed.join(', ') },
  });
}

/** `/admin/tenants/abc/` → ['tenants', 'abc'] (decoded); null when not under /admin or undecodable. */
function splitAdminPath(path: string): string[] | null {
  const parts = path.split('/');
  if (parts[0] !== '' || parts[1] !== 'admin') return null;
  const rest = parts.slice(2);
  if (rest.length > 0 && rest[rest.length - 1] === '') rest.pop(); // one trailing slash is harmless
  try {
    const decoded = rest.map((s) => decodeURIComponent(s));
    // An empty or slash-bearing segment (from "//" or "%2F") never names a resource.
    return decoded.some((s) => s === '' || s.includes('/')) ? null : decoded;
  } catch {
    return null;
  }
}

function matchPattern(pattern: string[], segments: string[]): Record<string, string> | null {
  if (pattern.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] as string;
    const s = segments[i] as string;
    if (p.startsWith('{')) params[p.slice(1, -1)] = s;
    else if (p !== s) return null;
  }
  return params;
}
