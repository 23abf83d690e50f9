// The admin API as one middy handler for API Gateway HTTP API (payload 2.0) events. The Lambda
// entry and the local server (through ./local) run this same handler.
//
// Middleware order (before): normalize headers → authenticate (401/429) → match route (404/405)
// → RBAC (403) → parse JSON body (400/415) → route handler. onError: OpenAI error JSON.
import middy from '@middy/core';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { AuditLog, AdminUserRepository, TenantRepository } from '../core/admin-ports';
import { GatewayError } from '../core/errors';
import type { Logger } from '../core/logger';
import type { TenantDefaults } from '../core/config';
import type { UsageReader } from '../core/ports';
import { authenticate } from './basic-auth';
import { toAdminError } from './error-response';
import { LoginThrottle } from './login-throttle';
import type { LoginThrottlePort } from './shared-login-throttle';
import { clientAddress } from './source-address';
import { hasPermission } from './rbac';
import { json } from './responses';
import { matchRoute, type MatchedRoute, type RouteName } from './routes';
import { ANONYMOUS_ADMIN, type AdminResult, type AdminServices, type Principal, type RouteHandler } from './services';
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

export type AdminEvent = APIGatewayProxyEventV2;
export type AdminHandler = middy.MiddyfiedHandler<AdminEvent, AdminResult>;
type AdminRequest = middy.Request<AdminEvent, AdminResult>;

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

interface RequestState {
  principal?: Principal;
  route?: MatchedRoute;
}

export function createAdminHandler(deps: AdminDeps): AdminHandler {
  const now = deps.now ?? Date.now;
  const services: AdminServices = { tenants: deps.tenants, users: deps.users, audit: deps.audit, usage: deps.usage, tenantDefaults: deps.tenantDefaults, now, logger: deps.logger };
  const throttle = deps.throttle ?? new LoginThrottle();
  // Per-invocation state, keyed by the event object (one per invocation), so middlewares can
  // hand the principal and route to the handler without touching the Lambda context.
  const states = new WeakMap<AdminEvent, RequestState>();
  const stateOf = (event: AdminEvent): RequestState => {
    let s = states.get(event);
    if (!s) states.set(event, (s = {}));
    return s;
  };

  // API Gateway's sourceIp is the TCP peer it saw (the local bridge passes the socket's address).
  const sourceAddress = (event: AdminEvent): string =>
    clientAddress(event.requestContext?.http?.sourceIp ?? '', event.headers['x-forwarded-for'], deps.trustProxy ?? 0);

  const normalize: middy.MiddlewareObj<AdminEvent, AdminResult> = {
    before: (request: AdminRequest) => {
      // API Gateway lower-cases header names already; hand-built and documented example events
      // do not always, and the JSON body parser only looks at "content-type".
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.event.headers ?? {})) {
        if (value !== undefined) headers[name.toLowerCase()] = value;
      }
      request.event.headers = headers;
    },
  };

  const auth: middy.MiddlewareObj<AdminEvent, AdminResult> = {
    before: async (request: AdminRequest) => {
      stateOf(request.event).principal = deps.authEnabled
        ? await authenticate({ users: deps.users, throttle, now, logger: deps.logger }, request.event.headers.authorization, sourceAddress(request.event))
        : ANONYMOUS_ADMIN;
    },
  };

  const route: middy.MiddlewareObj<AdminEvent, AdminResult> = {
    before: (request: AdminRequest) => {
      stateOf(request.event).route = matchRoute(methodOf(request.event), routePath(request.event));
    },
  };

  const rbac: middy.MiddlewareObj<AdminEvent, AdminResult> = {
    before: (request: AdminRequest) => {
      const { principal, route: matched } = stateOf(request.event) as Required<RequestState>;
      if (!hasPermission(principal.role, matched.permission)) {
        throw new GatewayError(403, `Role "${principal.role}" lacks the permission "${matched.permission}" that this route requires.`, {
          type: 'permission_error',
          code: 'insufficient_permissions',
        });
      }
    },
  };

  // The JSON parser runs only where a body means something, and only if one was sent: a GET,
  // a DELETE or a bodiless rotate-key must not fail on a missing Content-Type.
  const parser = httpJsonBodyParser<AdminEvent>();
  const jsonBody: middy.MiddlewareObj<AdminEvent, AdminResult> = {
    before: async (request: AdminRequest) => {
      const method = methodOf(request.event);
      const body = request.event.body;
      if (method !== 'POST' && method !== 'PUT') return;
      if (body === undefined || body === null || body === '') {
        request.event.body = undefined;
        return;
      }
      await parser.before?.(request);
    },
  };

  const errors: middy.MiddlewareObj<AdminEvent, AdminResult> = {
    onError: (request: AdminRequest) => {
      const err = toAdminError(request.error, deps.logger);
      request.response = json(err.status, err.toBody(), err.headers);
    },
  };

  const dispatch = async (event: AdminEvent): Promise<AdminResult> => {
    const { principal, route: matched } = stateOf(event) as Required<RequestState>;
    return HANDLERS[matched.name](services, {
      params: matched.params,
      query: new URLSearchParams(event.rawQueryString ?? ''),
      // After the parser this is the parsed JSON (or undefined), whatever the event type says.
      body: (event as { body?: unknown }).body,
      principal,
    });
  };

  return middy<AdminEvent, AdminResult>(dispatch).use([errors, normalize, auth, route, rbac, jsonBody]);
}

function methodOf(event: AdminEvent): string {
  return (event.requestContext?.http?.method ?? 'GET').toUpperCase();
}

/**
 * The path to route on. On a named stage invoked through its execute-api URL, rawPath starts
 * with "/<stage>" ahead of "/admin"; with the $default stage or a custom domain it does not.
 */
export function routePath(event: AdminEvent): string {
  const path = event.rawPath || '/';
  const stage = event.requestContext?.stage;
  if (stage && stage !== '$default' && path.startsWith(`/${stage}/admin`)) return path.slice(stage.length + 1);
  return path;
}
