// The only shapes in which tenants and users leave the API: fields are listed explicitly, so a
// key hash or a password hash can never slip out because a store added it to the record.
import type { AdminUser, TenantRecord } from '../core/ports';
import { keyView, liveKeys, type ApiKeyView } from './keys';

export interface TenantView {
  id: string;
  name: string;
  enabled: boolean;
  rate_limit_rpm: number;
  rate_limit_tpm: number;
  budget_usd: number;
  allow_overage: boolean;
  allowed_models: string[];
  default_provider: string | null;
  fallback_providers: string[] | null;
  created_at: string;
  updated_at: string;
  /** Keys that still work (a rotated-out key shows until its grace period ends). */
  keys: ApiKeyView[];
}

export function tenantView(r: TenantRecord, nowMs: number): TenantView {
  return {
    id: r.id,
    name: r.name,
    enabled: r.enabled,
    rate_limit_rpm: r.rate_limit_rpm,
    rate_limit_tpm: r.rate_limit_tpm,
    budget_usd: r.budget_usd,
    allow_overage: r.allow_overage,
    allowed_models: [...r.allowed_models],
    default_provider: r.default_provider ?? null,
    fallback_providers: r.fallback_providers ? [...r.fallback_providers] : null,
    created_at: r.created_at,
    updated_at: r.updated_at,
    keys: liveKeys(r.keys, nowMs).map(keyView),
  };
}

export interface UserView {
  username: string;
  role: AdminUser['role'];
  created_at: string;
  updated_at: string;
}

export function userView(u: AdminUser): UserView {
  return { username: u.username, role: u.role, created_at: u.created_at, updated_at: u.updated_at };
}
