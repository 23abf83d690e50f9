// What the route handlers work with: the ports, a clock, and the caller's identity.
import type { AdminRole, AlertClaims, AuditLog, AdminUserRepository, TenantRepository } from '../core/ports';
import type { TenantDefaults } from '../config';
import type { UsageReader } from '../core/ports';
import type { Logger } from '../core/logger';
import type { ApiResponse } from '../core/api-types';
import type { ProviderStatusSource } from './providers-route';

export interface AdminServices {
  tenants: TenantRepository;
  users: AdminUserRepository;
  audit: AuditLog;
  usage?: UsageReader;
  /** Sent budget alerts, for a tenant's recent alerts; absent: none listed. */
  alertClaims?: AlertClaims;
  /** Breakers and cooldowns for GET /admin/providers; absent: none known. */
  providerStatus?: ProviderStatusSource;
  tenantDefaults?: TenantDefaults;
  /** The provider names a tenant's default_provider and fallback_providers may name; the built-in ones when absent. */
  providerNames?: readonly string[];
  now: () => number;
  logger: Logger;
}

export interface Principal {
  username: string;
  role: AdminRole;
}

/** When admin auth is off (local default), every request acts as this built-in admin. */
export const ANONYMOUS_ADMIN: Principal = Object.freeze({ username: 'anonymous', role: 'admin' });

export interface RouteCall {
  params: Record<string, string>;
  query: URLSearchParams;
  /** The parsed JSON body, or undefined when none was sent. */
  body: unknown;
  principal: Principal;
}

export type RouteHandler = (services: AdminServices, call: RouteCall) => Promise<ApiResponse>;

export const iso = (ms: number): string => new Date(ms).toISOString();
