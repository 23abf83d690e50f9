// Usage totals in PostgreSQL: per tenant, day and model (usage_daily) and the month's cost per
// tenant (usage_monthly), idempotent by request id (usage_requests). Applying an event is ONE
// statement: the marker insert gates both upserts, so a redelivered event, even at the same time
// on another replica, changes nothing (the second insert waits for the first and finds its row).
// A batch (applyMany) is one statement too, updating each counter row once for all its events.
// The counted columns are listed once (COUNTERS): the statements and the reads are built from it.
import type { UsageApplied, UsageEvent, UsageStore, UsageTotals } from '../../core/ports';
import { emptyTotals, isErrorStatus, roundUsd, sumTotals } from '../../core/usage-totals';
import { usdText } from './money';
import type { PgDatabase, Statement } from './pool';

/** One counted column of usage_daily: what an event adds to it, and where its sum goes in UsageTotals. */
interface Counter {
  column: string;
  sqlType: 'bigint' | 'numeric';
  of: (e: UsageEvent) => number | string;
  /** The UsageTotals field its sum fills, if the read side reports it. */
  total?: keyof UsageTotals;
}

const COUNTERS: readonly Counter[] = [
  { column: 'requests', sqlType: 'bigint', of: () => 1, total: 'request_count' },
  { column: 'prompt_tokens', sqlType: 'bigint', of: (e) => e.prompt_tokens, total: 'prompt_tokens' },
  { column: 'completion_tokens', sqlType: 'bigint', of: (e) => e.completion_tokens, total: 'completion_tokens' },
  { column: 'cached_tokens', sqlType: 'bigint', of: (e) => e.cached_tokens },
  { column: 'cost_usd', sqlType: 'numeric', of: (e) => usdText(e.cost_usd), total: 'cost_usd' },
  { column: 'cache_hits', sqlType: 'bigint', of: (e) => (e.cache_hit ? 1 : 0), total: 'cache_hits' },
  { column: 'errors', sqlType: 'bigint', of: (e) => (isErrorStatus(e.status) ? 1 : 0), total: 'errors' },
];

// $1 request id, $2 tenant, $3 day, $4 model, $5 month, $6 the event's cost, then one per counter.
const first = 7;
const APPLY = {
  name: 'usage_apply',
  text: `WITH marker AS (
  INSERT INTO usage_requests (request_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING 1
), daily AS (
  INSERT INTO usage_daily (tenant_id, day, model, ${COUNTERS.map((c) => c.column).join(', ')})
  SELECT $2, $3::date, $4, ${COUNTERS.map((c, i) => `$${first + i}::${c.sqlType}`).join(', ')} FROM marker
  ON CONFLICT (tenant_id, day, model) DO UPDATE SET ${COUNTERS.map((c) => `${c.column} = usage_daily.${c.column} + EXCLUDED.${c.column}`).join(', ')}
), monthly AS (
  INSERT INTO usage_monthly (tenant_id, month, requests, cost_usd) SELECT $2, $5, 1, $6::numeric FROM marker
  ON CONFLICT (tenant_id, month) DO UPDATE SET requests = usage_monthly.requests + 1, cost_usd = usage_monthly.cost_usd + EXCLUDED.cost_usd
  RETURNING cost_usd
)
SELECT EXISTS (SELECT 1 FROM marker) AS counted,
  COALESCE((SELECT cost_usd FROM monthly), (SELECT cost_usd FROM usage_monthly WHERE tenant_id = $2 AND month = $5), 0)::text AS month_cost`,
};

// Arrays, one element per event: $1 request ids, $2 tenants, $3 days, $4 models, $5 months, $6
// costs, then one per counter. Rows are written in key order, so concurrent batches lock alike.
const names = COUNTERS.map((c) => c.column);
const APPLY_MANY = {
  name: 'usage_apply_many',
  text: `WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::text[], $6::numeric[], ${COUNTERS.map((c, i) => `$${first + i}::${c.sqlType}[]`).join(', ')})
    WITH ORDINALITY AS e(request_id, tenant_id, day, model, month, month_cost, ${names.join(', ')}, ord)
), firsts AS (
  SELECT DISTINCT ON (request_id) * FROM input ORDER BY request_id, ord
), marker AS (
  INSERT INTO usage_requests (request_id) SELECT request_id FROM firsts ORDER BY request_id ON CONFLICT DO NOTHING RETURNING request_id
), fresh AS (
  SELECT f.* FROM firsts f JOIN marker m ON m.request_id = f.request_id
), daily AS (
  INSERT INTO usage_daily (tenant_id, day, model, ${names.join(', ')})
  SELECT tenant_id, day, model, ${COUNTERS.map((c) => `sum(${c.column})::${c.sqlType}`).join(', ')} FROM fresh
  GROUP BY tenant_id, day, model ORDER BY tenant_id, day, model
  ON CONFLICT (tenant_id, day, model) DO UPDATE SET ${names.map((n) => `${n} = usage_daily.${n} + EXCLUDED.${n}`).join(', ')}
), monthly AS (
  INSERT INTO usage_monthly (tenant_id, month, requests, cost_usd)
  SELECT tenant_id, month, count(*), sum(month_cost) FROM fresh GROUP BY tenant_id, month ORDER BY tenant_id, month
  ON CONFLICT (tenant_id, month) DO UPDATE SET requests = usage_monthly.requests + EXCLUDED.requests, cost_usd = usage_monthly.cost_usd + EXCLUDED.cost_usd
  RETURNING tenant_id, month, cost_usd
)
SELECT i.ord::integer AS ord, f.ord IS NOT DISTINCT FROM i.ord AS counted, COALESCE(mo.cost_usd, um.cost_usd, 0)::text AS month_cost
FROM input i
LEFT JOIN fresh f ON f.request_id = i.request_id
LEFT JOIN monthly mo ON mo.tenant_id = i.tenant_id AND mo.month = i.month
LEFT JOIN usage_monthly um ON um.tenant_id = i.tenant_id AND um.month = i.month
ORDER BY i.ord`,
};

const SUMS = COUNTERS.filter((c) => c.total)
  .map((c) => `sum(${c.column})::text AS ${c.column}`)
  .join(', ');

// $1 tenant, $2 first day, $3 last day (both included).
const BY_MODEL = {
  name: 'usage_by_model',
  text: `SELECT model AS key, ${SUMS} FROM usage_daily WHERE tenant_id = $1 AND day BETWEEN $2::date AND $3::date GROUP BY model`,
};

// Days as "YYYY-MM-DD" whatever the session's DateStyle.
const BY_DAY = {
  name: 'usage_by_day',
  text: `SELECT to_char(day, 'YYYY-MM-DD') AS key, ${SUMS} FROM usage_daily WHERE tenant_id = $1 AND day BETWEEN $2::date AND $3::date GROUP BY day`,
};

/** A model's or a day's sums, as text (numeric sums exceed a double's exact range). */
type TotalsRow = { key: string } & Record<string, string>;

/** The one place a row of sums becomes UsageTotals. */
function totalsOf(row: TotalsRow): UsageTotals {
  const totals = emptyTotals();
  for (const c of COUNTERS) {
    if (c.total) totals[c.total] = c.total === 'cost_usd' ? roundUsd(Number(row[c.column] ?? 0)) : Number(row[c.column] ?? 0);
  }
  return totals;
}

export class PgUsageStore implements UsageStore {
  constructor(private readonly db: PgDatabase) {}

  async apply(event: UsageEvent, then: (applied: UsageApplied) => Promise<void>): Promise<UsageApplied> {
    const [row] = await this.db.query<{ counted: boolean; month_cost: string }>(APPLY, [
      event.request_id,
      event.tenant_id,
      event.timestamp.slice(0, 10),
      event.model,
      event.timestamp.slice(0, 7),
      usdText(event.cost_usd),
      ...COUNTERS.map((c) => c.of(event)),
    ]);
    if (!row) throw new Error('the usage statement returned no row');
    const applied: UsageApplied = { counted: row.counted, month_cost_usd: roundUsd(Number(row.month_cost)) };
    await then(applied);
    return applied;
  }

  /**
   * A batch in one statement; `then` runs once per tenant and month the batch touches, with the
   * month's cost after the batch. A failing `then` fails that tenant-month's events only: they
   * are counted, so their redelivery runs `then` again and counts nothing.
   */
  async applyMany(events: readonly UsageEvent[], then: (event: UsageEvent, applied: UsageApplied) => Promise<void>): Promise<Array<UsageApplied | Error>> {
    if (events.length === 0) return [];
    let rows: Array<{ ord: number; counted: boolean; month_cost: string }>;
    try {
      rows = await this.db.query(APPLY_MANY, [
        events.map((e) => e.request_id),
        events.map((e) => e.tenant_id),
        events.map((e) => e.timestamp.slice(0, 10)),
        events.map((e) => e.model),
        events.map((e) => e.timestamp.slice(0, 7)),
        events.map((e) => usdText(e.cost_usd)),
        ...COUNTERS.map((c) => events.map((e) => c.of(e))),
      ]);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      return events.map(() => error);
    }
    const out: Array<UsageApplied | Error> = rows.map((r) => ({ counted: r.counted, month_cost_usd: roundUsd(Number(r.month_cost)) }));
    const groups = new Map<string, number[]>();
    events.forEach((e, i) => {
      const key = `${e.tenant_id}\u0000${e.timestamp.slice(0, 7)}`;
      const members = groups.get(key);
      if (members) members.push(i);
      else groups.set(key, [i]);
    });
    await Promise.all(
      [...groups.values()].map(async (members) => {
        const i = members[0] as number;
        try {
          await then(events[i] as UsageEvent, out[i] as UsageApplied);
        } catch (err) {
          const error = err instanceof Error ? err : new Error(String(err));
          for (const m of members) out[m] = error;
        }
      }),
    );
    return out;
  }

  async totals(tenantId: string, fromIso: string, toIso: string): Promise<UsageTotals> {
    return sumTotals(await this.totalsByModel(tenantId, fromIso, toIso));
  }

  async totalsByModel(tenantId: string, fromIso: string, toIso: string): Promise<Record<string, UsageTotals>> {
    return this.sums(BY_MODEL, tenantId, fromIso, toIso);
  }

  async totalsByDay(tenantId: string, fromIso: string, toIso: string): Promise<Record<string, UsageTotals>> {
    return this.sums(BY_DAY, tenantId, fromIso, toIso);
  }

  /** The tenant's totals over whole UTC days, grouped as `statement` groups them. */
  private async sums(statement: Statement, tenantId: string, fromIso: string, toIso: string): Promise<Record<string, UsageTotals>> {
    const rows = await this.db.query<TotalsRow>(statement, [tenantId, fromIso.slice(0, 10), toIso.slice(0, 10)]);
    return Object.fromEntries(rows.map((r) => [r.key, totalsOf(r)]));
  }
}
