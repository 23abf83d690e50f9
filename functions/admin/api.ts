// The admin API as one ApiHandler: the local server calls it directly, the Lambda edge
// (./lambda.ts) after converting API Gateway's event. Its steps, in order: authenticate
// (401/429) → match the route (404/405) → RBAC (403) → JSON body (415/400) → the route's
// handler. Anything thrown becomes OpenAI's error JSON, never cached.
import type { ApiHandler, ApiRequest } from '../core/api-types';
import type { AuditLog, AdminUserRepository, TenantRepository, UsageReader } from '../core/ports';
import type { TenantDefaults } from '../config';
import { GatewayError } from '../core/errors';
import { readJsonBody } from '../core/json-body';
import type { Logger } from '../core/logger';
import { authenticate, type Authenticator } from './basic-auth';
import { toAdminError } from './error-response';
import { hasPermission } from './rbac';
import { json } from './responses';
import { matchRoute, type MatchedRoute, type RouteName } from './routes';
import { ANONYMOUS_ADMIN, type AdminServices, type Principal, type RouteHandler } from './services';
import { inProcessThrottle, type LoginThrottlePort } from './shared-login-throttle';
import { clientAddress } from './source-address';
import { createTenant, deleteTenant, getTenant, listTenants, rotateTenantKey, updateTenant } from './tenant-routes';
import { tenantUsage } from './usage-route';
import { createUser, deleteUser, getUser, listAudit, listUsers, updateUser } from './user-routes';

export interface AdminDeps {
  tenants: TenantRepository;
  users: AdminUserRepository;
  audit: AuditLog;
  usage?: UsageReader;
  /** Limits of a tenant created without them (TENANT_DEFAULT_*); DEFAULT_TENANT's when absent. */
  tenantDefaults?: TenantDefaults;
  /** The provider names the gateway knows (built-in and named), for tenants' provider fields; the built-in ones when absent. */
  providerNames?: readonly string[];
  /** false only for local development: every request then acts as the built-in "anonymous" admin. */
  authEnabled: boolean;
  now?: () => number;
  logger: Logger;
  /**
   * Failed-login throttle; one per handler instance by default (in memory, see login-throttle.ts),
   * or SharedLoginThrottle to count across instances.
   */
  throttle?: LoginThrottlePort;
  /** TRUST_PROXY: how many proxies' X-Forwarded-For entries to believe for the client address (default 0). */
  trustProxy?: number;
}

const HANDLERS: Record<RouteName, RouteHandler> = {
  'tenants.list': listTenants,
  'tenants.create': createTenant,
  'tenants.get': getTenant,
  'tenants.update': updateTenant,
  'tenants.delete': deleteTenant,
  'tenants.rotateKey': rotateTenantKey,
  'tenants.usage': tenantUsage,
  'users.list': listUsers,
  'users.create': createUser,
  'users.get': getUser,
  'users.update': updateUser,
  'users.delete': deleteUser,
  'audit.list': listAudit,
};

/** True for paths the admin API serves. */
export const isAdminPath = (path: string): boolean => path === '/admin' || path.startsWith('/admin/');

export function createAdminApi(deps: AdminDeps): ApiHandler {
  const now = deps.now ?? Date.now;
  const services: AdminServices = {
    tenants: deps.tenants,
    users: deps.users,
    audit: deps.audit,
    usage: deps.usage,
    tenantDefaults: deps.tenantDefaults,
    providerNames: deps.providerNames,
    now,
    logger: deps.logger,
  };
  const authenticator: Authenticator = { users: deps.users, throttle: deps.throttle ?? inProcessThrottle(), now, logger: deps.logger };
  const caller = (req: ApiRequest): Promise<Principal> =>
    deps.authEnabled ? authenticate(authenticator, req.headers.authorization, sourceAddress(req, deps.trustProxy ?? 0)) : Promise.resolve(ANONYMOUS_ADMIN);

  return async (req) => {
    try {
      const principal = await caller(req);
      const route = matchRoute(req.method.toUpperCase(), req.path);
      authorize(principal, route);
      const body = readJsonBody(req);
      return await HANDLERS[route.name](services, { params: route.params, query: req.query, body, principal });
    } catch (err) {
      const error = toAdminError(err, deps.logger);
      return json(error.status, error.toBody(), error.headers);
    }
  };
}

/** The client's address for login throttling: the TCP peer (API Gateway's sourceIp on Lambda), or a trusted proxy's X-Forwarded-For entry. */
function sourceAddress(req: ApiRequest, trustProxy: number): string {
  return clientAddress(req.remoteAddress ?? '', req.headers['x-forwarded-for'], trustProxy);
}

/** RBAC: 403 unless the caller's role has the route's permission. */
function authorize(principal: Principal, route: MatchedRoute): void {
  if (hasPermission(principal.role, route.permission)) return;
  throw new GatewayError(403, `Role "${principal.role}" lacks the permission "${route.permission}" that this route requires.`, {
    type: 'permission_error',
    code: 'insufficient_permissions',
  });
}
