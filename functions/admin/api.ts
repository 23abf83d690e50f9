// The admin API as one ApiHandler: the local server calls it directly, the Lambda edge
// (./lambda.ts) after converting API Gateway's event. Its steps, in order: a write from another
// origin is refused (403) → console sessions (/admin/session) → authenticate: Basic, a session
// cookie (with its CSRF token on writes), or none when auth is off (401/403/429) → match the
// route (404/405) → RBAC (403) → JSON body (415/400) → the route's handler. Anything thrown
// becomes OpenAI's error JSON, never cached.
import type { ApiHandler, ApiRequest } from '../core/api-types';
import type { AlertClaims, AuditLog, AdminUserRepository, TenantRepository, UsageReader } from '../core/ports';
import type { TenantDefaults } from '../config';
import { DEFAULT_SESSION_TTL_SECONDS } from '../config/admin';
import { readJsonBody } from '../core/json-body';
import type { Logger } from '../core/logger';
import { authenticate, challenge, type Authenticator } from './basic-auth';
import { toAdminError } from './error-response';
import { hasPermission, missingPermission } from './rbac';
import { json } from './responses';
import { matchRoute, type MatchedRoute, type RouteName } from './routes';
import { ANONYMOUS_ADMIN, type AdminServices, type Principal, type RouteHandler } from './services';
import { inProcessThrottle, type LoginThrottlePort } from './shared-login-throttle';
import { clientAddress } from './source-address';
import { sameOriginOrNone, sessionCookie, type OriginRule } from './session-cookie';
import { randomSessionKey } from './session-token';
import { forgettingUsers, SessionUsers } from './session-users';
import { AdminSessions, csrfFailed, isSafeMethod, SESSION_PATH, sessionRequired, type SessionSettings, type SignInGuard } from './sessions';
import { createTenant, deleteTenant, getTenant, listTenants, rotateTenantKey, updateTenant } from './tenant-routes';
import { tenantUsage } from './usage-route';
import { overview } from './overview-route';
import { listProviders, type ProviderStatusSource } from './providers-route';
import { tenantAlerts } from './alerts-route';
import { createUser, deleteUser, getUser, listAudit, listUsers, updateUser } from './user-routes';

export interface AdminDeps {
  tenants: TenantRepository;
  users: AdminUserRepository;
  audit: AuditLog;
  usage?: UsageReader;
  /** Sent budget alerts (GET /admin/tenants/{id}/alerts). */
  alertClaims?: AlertClaims;
  /** Breakers and cooldowns (GET /admin/providers). */
  providerStatus?: ProviderStatusSource;
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
  /** Console sessions' signing key and lifetime; a key of this instance's own and 8 hours when absent. */
  sessions?: Partial<SessionSettings>;
  /** The scheme browsers reach this API by, for the same-origin check on writes: https behind API Gateway, http locally (default). */
  scheme?: OriginRule['scheme'];
  /** Refuses a console sign-in before its password is checked (the local server: admin:admin from beyond loopback). */
  signInGuard?: SignInGuard;
}

const HANDLERS: Record<RouteName, RouteHandler> = {
  'tenants.list': listTenants,
  'tenants.create': createTenant,
  'tenants.get': getTenant,
  'tenants.update': updateTenant,
  'tenants.delete': deleteTenant,
  'tenants.rotateKey': rotateTenantKey,
  'tenants.usage': tenantUsage,
  'tenants.alerts': tenantAlerts,
  overview,
  'providers.list': listProviders,
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
  const sessionUsers = new SessionUsers(deps.users, now);
  const services: AdminServices = {
    tenants: deps.tenants,
    // A user this instance changes or deletes is re-read for their sessions at once.
    users: forgettingUsers(deps.users, sessionUsers),
    audit: deps.audit,
    usage: deps.usage,
    alertClaims: deps.alertClaims,
    providerStatus: deps.providerStatus,
    tenantDefaults: deps.tenantDefaults,
    providerNames: deps.providerNames,
    now,
    logger: deps.logger,
  };
  const authenticator: Authenticator = { users: deps.users, throttle: deps.throttle ?? inProcessThrottle(), now, logger: deps.logger };
  const sessions = new AdminSessions({
    services,
    authenticator,
    users: sessionUsers,
    signInGuard: deps.signInGuard,
    key: deps.sessions?.key ?? randomSessionKey(),
    ttlSeconds: deps.sessions?.ttlSeconds ?? DEFAULT_SESSION_TTL_SECONDS,
  });
  const originRule: OriginRule = { scheme: deps.scheme ?? 'http', trustProxy: deps.trustProxy ?? 0 };

  /** Basic credentials (auth on), else a session cookie, else the anonymous admin (auth off) or 401. */
  const caller = async (req: ApiRequest, method: string): Promise<Principal> => {
    if (deps.authEnabled && req.headers.authorization !== undefined)
      return authenticate(authenticator, req.headers.authorization, sourceAddress(req, deps.trustProxy ?? 0));
    const token = sessionCookie(req.headers);
    if (token !== undefined) return sessions.principal(req, method, token);
    if (!deps.authEnabled) return ANONYMOUS_ADMIN;
    // A page's script gets a plain 401: a Basic challenge would open the browser's password dialog.
    if (fromScript(req)) throw sessionRequired('Admin credentials are required: sign in (POST /admin/session) or use HTTP Basic authentication.');
    throw challenge('Admin credentials are required (HTTP Basic authentication).');
  };

  return async (req) => {
    try {
      const method = req.method.toUpperCase();
      // Browsers name the page a write comes from; a page elsewhere never writes here, whatever credentials the browser adds.
      if (!isSafeMethod(method) && !sameOriginOrNone(req.headers, originRule)) {
        throw csrfFailed('A write to the admin API from another origin is refused.');
      }
      if (req.path === SESSION_PATH || req.path === `${SESSION_PATH}/`) {
        return await sessions.route(req, method, () => readJsonBody(req), sourceAddress(req, deps.trustProxy ?? 0));
      }
      const principal = await caller(req, method);
      const route = matchRoute(method, req.path);
      authorize(principal, route);
      const body = readJsonBody(req);
      return await HANDLERS[route.name](services, { params: route.params, query: req.query, body, principal });
    } catch (err) {
      const error = toAdminError(err, deps.logger);
      return json(error.status, error.toBody(), error.headers);
    }
  };
}

/**
 * A page's script: a browser's fetch or XHR (Sec-Fetch-Dest: empty; Node's fetch sends no such
 * header) or a client that says so with X-Requested-With, as opposed to a page load or curl.
 */
function fromScript(req: ApiRequest): boolean {
  return req.headers['sec-fetch-dest'] === 'empty' || req.headers['x-requested-with'] !== undefined;
}

/** The client's address for login throttling: the TCP peer (API Gateway's sourceIp on Lambda), or a trusted proxy's X-Forwarded-For entry. */
function sourceAddress(req: ApiRequest, trustProxy: number): string {
  return clientAddress(req.remoteAddress ?? '', req.headers['x-forwarded-for'], trustProxy);
}

/** RBAC: 403 unless the caller's role has the route's permission. */
function authorize(principal: Principal, route: MatchedRoute): void {
  if (!hasPermission(principal.role, route.permission)) throw missingPermission(principal, route.permission);
}
