// functions/admin — the admin API (/admin/*) as one ApiHandler: Basic auth with failed-login
// throttling, RBAC, tenants and their keys, admin users, the audit trail, a tenant's usage. The
// local server calls it directly; lambda.ts is its Lambda entry behind the HTTP API edge. It reaches
// stores only through the ports: their backends and AWS code live in functions/adapters.
//
// What the Lambda entry and the local server need from the admin API.
export { createAdminApi, isAdminPath, type AdminDeps } from './api';
export { ensureBootstrapAdmin, type BootstrapOptions } from './bootstrap';
export { LoginThrottle } from './login-throttle';
export { deriveSessionKey, randomSessionKey, type SessionKey } from './session-token';
export { SharedLoginThrottle, type LoginThrottlePort } from './shared-login-throttle';
