// GET /admin/overview?from&to: spend and traffic across every tenant for a range (default this
// UTC month): totals with cache-hit and error rates, spend per day, and the top tenants and
// models by cost. Composed from each tenant's totals per model and per day, a few tenants at a
// time; money adds up exactly as the stores add it (to 1e-10 USD) and rates round as GET /v1/usage's.
import type { TenantRecord, UsageReader, UsageTotals } from '../core/ports';
import { addTotals, emptyTotals, requestRate, sumTotals } from '../core/usage-totals';
import { json } from './responses';
import { iso, type RouteHandler } from './services';
import { daysOf, ensureGroupableDays, totalsPerDay, usageRange, type UsageRange } from './usage-range';

/** Tenants read at once. */
const TENANT_BATCH = 8;
const TOP = 10;

interface TenantUsage {
  tenant: TenantRecord;
  total: UsageTotals;
  byModel: Record<string, UsageTotals>;
  byDay: Record<string, UsageTotals>;
}

interface Ranked {
  cost_usd: number;
  request_count: number;
}

/** Most spent first; then most requests; then the name, so equal rows keep one order. */
function topOf<T extends Ranked>(rows: T[], name: (row: T) => string): T[] {
  return rows
    .filter((r) => r.request_count > 0 || r.cost_usd > 0)
    .sort((a, b) => b.cost_usd - a.cost_usd || b.request_count - a.request_count || (name(a) < name(b) ? -1 : 1))
    .slice(0, TOP);
}

async function usageOf(reader: UsageReader, tenants: TenantRecord[], range: UsageRange): Promise<TenantUsage[]> {
  const from = iso(range.fromMs);
  const to = iso(range.toMs);
  const out: TenantUsage[] = [];
  for (let i = 0; i < tenants.length; i += TENANT_BATCH) {
    const batch = tenants.slice(i, i + TENANT_BATCH);
    const read = await Promise.all(
      batch.map(async (tenant) => {
        const [byModel, byDay] = await Promise.all([reader.totalsByModel(tenant.id, from, to), totalsPerDay(reader, tenant.id, range)]);
        return { tenant, total: sumTotals(byModel), byModel, byDay };
      }),
    );
    out.push(...read);
  }
  return out;
}

export const overview: RouteHandler = async (s, { query }) => {
  const range = usageRange(query, s.now());
  ensureGroupableDays(range, 'from');
  const tenants = await s.tenants.list();
  const usage = s.usage ? await usageOf(s.usage, tenants, range) : [];

  const totals = emptyTotals();
  const perDay = new Map(daysOf(range).map((day) => [day, emptyTotals()]));
  const perModel = new Map<string, UsageTotals>();
  for (const u of usage) {
    addTotals(totals, u.total);
    for (const [day, t] of Object.entries(u.byDay)) {
      const sum = perDay.get(day);
      if (sum) addTotals(sum, t);
    }
    for (const [model, t] of Object.entries(u.byModel)) {
      let sum = perModel.get(model);
      if (!sum) perModel.set(model, (sum = emptyTotals()));
      addTotals(sum, t);
    }
  }

  return json(200, {
    object: 'admin.overview',
    from: iso(range.fromMs),
    to: iso(range.toMs),
    totals: {
      cost_usd: totals.cost_usd,
      request_count: totals.request_count,
      cache_hits: totals.cache_hits,
      cache_hit_rate: requestRate(totals.cache_hits, totals.request_count),
      errors: totals.errors,
      error_rate: requestRate(totals.errors, totals.request_count),
      prompt_tokens: totals.prompt_tokens,
      completion_tokens: totals.completion_tokens,
    },
    per_day: [...perDay].map(([date, t]) => ({ date, cost_usd: t.cost_usd, request_count: t.request_count })),
    top_tenants: topOf(
      usage.map((u) => ({ tenant_id: u.tenant.id, name: u.tenant.name, cost_usd: u.total.cost_usd, request_count: u.total.request_count })),
      (r) => r.tenant_id,
    ),
    top_models: topOf(
      [...perModel].map(([model, t]) => ({ model, cost_usd: t.cost_usd, request_count: t.request_count })),
      (r) => r.model,
    ),
    tenant_count: tenants.length,
  });
};
