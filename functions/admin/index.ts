// What the Lambda entry and the local server need from the admin API.
export { createAdminHandler, type AdminDeps, type AdminHandler, type AdminEvent } from './handler';
export { adminApiFromApiRequest, isAdminPath, toApiGatewayEvent, fromApiGatewayResult, type LocalAdminOptions } from './local';
export { ensureBootstrapAdmin, type BootstrapOptions } from './bootstrap';
export { LoginThrottle } from './login-throttle';
export { SharedLoginThrottle, type LoginThrottlePort } from './shared-login-throttle';
