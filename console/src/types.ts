// The admin API's shapes as the console reads them (see README "Admin API").

export type Role = 'admin' | 'editor' | 'viewer';
export type Permission = 'tenant:read' | 'tenant:write' | 'tenant:delete' | 'usage:read' | 'admin:manage';

export interface Session {
  object: 'admin.session';
  username: string;
  role: Role;
  permissions: Permission[];
  csrf_token: string;
  expires_at: string;
}

export interface ListOf<T> {
  object: 'list';
  data: T[];
}

export interface ApiKey {
  prefix: string;
  created_at: string;
  expires_at: string | null;
}

export interface Tenant {
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
  keys: ApiKey[];
  /** This UTC month's spend and budget share (`?with=spend`), as GET /v1/usage reports them. */
  spend_usd_month?: number;
  budget_used_pct?: number;
}

/** Create and rotate answers: the only time the plaintext key is seen. */
export interface TenantWithKey extends Tenant {
  api_key: string;
}

export interface UsageTotals {
  request_count: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
  cache_hits: number;
}

export interface TenantUsage<G> {
  object: 'tenant.usage';
  tenant_id: string;
  from: string;
  to: string;
  totals: UsageTotals;
  groups?: G[];
}

export type DayUsage = UsageTotals & { day: string };
export type ModelUsage = UsageTotals & { model: string };

export interface Overview {
  from: string;
  to: string;
  totals: UsageTotals & { cache_hit_rate: number; errors: number; error_rate: number };
  per_day: Array<{ date: string; cost_usd: number; request_count: number }>;
  top_tenants: Array<{ tenant_id: string; name: string; cost_usd: number; request_count: number }>;
  top_models: Array<{ model: string; cost_usd: number; request_count: number }>;
}

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface ProviderStatus {
  name: string;
  breaker: BreakerState;
  consecutive_failures: number;
  /** When the breaker opened; null while closed. */
  opened_at: string | null;
  /** When an open breaker lets the next call through as a probe. */
  probe_at: string | null;
  cooldowns: Array<{ model: string; until: string; status: number }>;
}

/** One budget threshold alert sent for a tenant (one per month and threshold crossed). */
export interface TenantAlert {
  period: string;
  threshold_pct: number;
  sent_at: string;
}

export interface TenantAlerts extends ListOf<TenantAlert> {
  budget_usd: number;
}

export interface AdminUser {
  username: string;
  role: Role;
  created_at: string;
  updated_at: string;
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  tenant_id?: string;
  details?: Record<string, unknown>;
}
