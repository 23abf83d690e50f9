// What the Lambda entry and the local server need from the admin API.
export { createAdminApi, isAdminPath, type AdminDeps } from './api';
export { ensureBootstrapAdmin, type BootstrapOptions } from './bootstrap';
export { LoginThrottle } from './login-throttle';
export { SharedLoginThrottle, type LoginThrottlePort } from './shared-login-throttle';
