// GET /v1/usage: the calling tenant's spend this month (UTC), in the seed's shape plus tokens and
// cache hits. Needs only the key → tenant lookup, the usage totals and a clock, so a server that
// serves nothing else (the usage Lambda) composes nothing else.
import { jsonResponse, type ApiRequest, type ApiResponse } from './api-types';
import type { Tenant, UsageReader } from './ports';
import { budgetUsedPct, requestRate } from './usage-totals';

export const USAGE_PATH = '/v1/usage';

export interface UsageRouteDeps {
  /** The request's tenant by its key; throws 401/403 (see `authenticateTenant`). */
  authenticate: (req: ApiRequest) => Promise<Tenant>;
  usageReader: UsageReader;
  now: () => number;
}

export function usageRoute(deps: UsageRouteDeps): (req: ApiRequest) => Promise<ApiResponse> {
  return async (req) => {
    const tenant = await deps.authenticate(req);
    const now = new Date(deps.now());
    const periodStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    const t = await deps.usageReader.totals(tenant.id, periodStart.toISOString(), now.toISOString());
    return jsonResponse(200, {
      tenant_id: tenant.id,
      period_start: periodStart.toISOString().replace('.000Z', 'Z'),
      total_cost_usd: t.cost_usd,
      budget_usd: tenant.budget_usd,
      budget_used_pct: budgetUsedPct(t.cost_usd, tenant.budget_usd),
      request_count: t.request_count,
      prompt_tokens: t.prompt_tokens,
      completion_tokens: t.completion_tokens,
      cache_hits: t.cache_hits,
      cache_hit_rate: requestRate(t.cache_hits, t.request_count),
    });
  };
}
