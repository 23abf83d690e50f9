// Usage totals in Redis, per tenant: one hash per day (fields "<model>\0<counter>") and one per
// month (requests, cost), money in units of 1e-10 USD. One Lua script marks the request id and
// adds the event, atomically, so a redelivered event changes nothing. Keys of one tenant share a
// hash tag ({tenant}) and so a cluster slot, which a multi-key script needs.
import type { Redis } from 'ioredis';
import type { UsageApplied, UsageEvent, UsageStore, UsageTotals } from '../../core/ports';
import { groupTotals, isErrorStatus, sumTotals } from '../../core/usage-totals';
import { fromUnits, toUnits } from './money';

const DAY_MS = 86_400_000;
/** Request-id markers outlive any redelivery (SQS keeps a message at most 14 days). */
const MARKER_MS = 15 * DAY_MS;
/** Totals are the record of spend: kept for over a year. */
const KEEP_MS = 400 * DAY_MS;
/** The longest range one read covers, in days. */
const MAX_DAYS = 400;
const SEP = '\u0000';
const COUNTERS = ['requests', 'prompt_tokens', 'completion_tokens', 'cached_tokens', 'cost', 'cache_hits', 'errors'] as const;

// KEYS[1] marker, KEYS[2] day hash, KEYS[3] month hash. ARGV[1] marker ms, ARGV[2] keep ms,
// ARGV[3] model, ARGV[4..10] the COUNTERS' increments (ARGV[8]: cost). Returns {counted 0|1, month cost}.
const APPLY = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  return {0, redis.call('HGET', KEYS[3], 'cost') or '0'}
end
local names = {${COUNTERS.map((n) => `'${n}'`).join(', ')}}
for i, name in ipairs(names) do
  local n = tonumber(ARGV[3 + i])
  if n ~= 0 then redis.call('HINCRBY', KEYS[2], ARGV[3] .. '${SEP}' .. name, n) end
end
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('HINCRBY', KEYS[3], 'requests', 1)
local cost = redis.call('HINCRBY', KEYS[3], 'cost', ARGV[8])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
return {1, tostring(cost)}
`;

export class RedisUsageStore implements UsageStore {
  private readonly prefix: string;

  constructor(
    private readonly redis: Redis,
    opts: { prefix?: string } = {},
  ) {
    this.prefix = opts.prefix ?? 'gw:';
  }

  private base(tenantId: string): string {
    return `${this.prefix}usage:{${tenantId}}`;
  }

  async apply(event: UsageEvent, then: (applied: UsageApplied) => Promise<void>): Promise<UsageApplied> {
    const base = this.base(event.tenant_id);
    const out = await this.redis.eval(
      APPLY,
      3,
      `${base}:req:${event.request_id}`,
      `${base}:day:${event.timestamp.slice(0, 10)}`,
      `${base}:month:${event.timestamp.slice(0, 7)}`,
      MARKER_MS,
      KEEP_MS,
      event.model,
      1,
      event.prompt_tokens,
      event.completion_tokens,
      event.cached_tokens,
      toUnits(event.cost_usd),
      event.cache_hit ? 1 : 0,
      isErrorStatus(event.status) ? 1 : 0,
    );
    if (!Array.isArray(out) || out.length !== 2) throw new Error('unexpected reply from the usage script');
    const applied: UsageApplied = { counted: Number(out[0]) === 1, month_cost_usd: fromUnits(out[1] as string) };
    await then(applied);
    return applied;
  }

  async totals(tenantId: string, fromIso: string, toIso: string): Promise<UsageTotals> {
    return sumTotals(await this.totalsByModel(tenantId, fromIso, toIso));
  }

  totalsByModel(tenantId: string, fromIso: string, toIso: string): Promise<Record<string, UsageTotals>> {
    return groupTotals((visit) => this.readDays(tenantId, fromIso, toIso, visit), 'model');
  }

  totalsByDay(tenantId: string, fromIso: string, toIso: string): Promise<Record<string, UsageTotals>> {
    return groupTotals((visit) => this.readDays(tenantId, fromIso, toIso, visit), 'day');
  }

  /** Every day's per-model counters of the tenant in the range (whole UTC days), in one pipeline. */
  private async readDays(tenantId: string, fromIso: string, toIso: string, visit: (day: string, model: string, totals: UsageTotals) => void): Promise<void> {
    const days: string[] = [];
    const last = Date.parse(toIso.slice(0, 10));
    for (let d = Date.parse(fromIso.slice(0, 10)); d <= last && days.length < MAX_DAYS; d += DAY_MS) days.push(new Date(d).toISOString().slice(0, 10));
    if (days.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const day of days) pipeline.hgetall(`${this.base(tenantId)}:day:${day}`);
    const replies = (await pipeline.exec()) ?? [];
    replies.forEach(([err, hash], i) => {
      if (err) throw err;
      const perModel = new Map<string, Record<string, number>>();
      for (const [field, value] of Object.entries((hash ?? {}) as Record<string, string>)) {
        const cut = field.lastIndexOf(SEP);
        const model = field.slice(0, cut);
        let counters = perModel.get(model);
        if (!counters) perModel.set(model, (counters = {}));
        counters[field.slice(cut + 1)] = Number(value);
      }
      for (const [model, c] of perModel) {
        visit(days[i] as string, model, {
          request_count: c.requests ?? 0,
          prompt_tokens: c.prompt_tokens ?? 0,
          completion_tokens: c.completion_tokens ?? 0,
          cost_usd: fromUnits(c.cost),
          cache_hits: c.cache_hits ?? 0,
          errors: c.errors ?? 0,
        });
      }
    });
  }
}
