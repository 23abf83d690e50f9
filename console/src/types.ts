// The admin API's shapes as the console reads them (see README "Admin API").

// Shapes the server defines are imported as types only (erased from the bundle), so the two
// cannot drift apart; the rest are the answers of the console's own read endpoints.
import type { Permission } from '../../functions/admin/rbac';
import type { TenantView, UserView } from '../../functions/admin/views';
import type { ApiKeyView } from '../../functions/admin/keys';
import type { AdminRole, AuditEntry } from '../../functions/core/ports/admin';
import type { UsageTotals } from '../../functions/core/ports/usage';

export type { AuditEntry, Permission, UsageTotals };
export type Role = AdminRole;
export type ApiKey = ApiKeyView;
export type AdminUser = UserView;

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

export interface Tenant extends TenantView {
  /** This UTC month's spend and budget share (`?with=spend`), as GET /v1/usage reports them. */
  spend_usd_month?: number;
  budget_used_pct?: number;
}

/** Create and rotate answers: the only time the plaintext key is seen. */
export interface TenantWithKey extends Tenant {
  api_key: string;
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
  totals: UsageTotals & { cache_hit_rate: number; error_rate: number };
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
