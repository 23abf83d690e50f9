// The aggregator: applies usage events to the usage store (idempotent by request id) and sends
// the budget alerts they reach. Fed one event at a time in process, or in queue batches (SQS),
// where each record that fails is reported on its own so only it is delivered again.
import type { BudgetAlerter } from './budget-alerts';
import type { Logger } from './logger';
import type { UsageApplied, UsageEvent, UsageStore } from './ports';

/** One queued message: its id in the queue and its body (a usage event as JSON). */
export interface QueuedRecord {
  id: string;
  body: string;
}

/** Records applied at once from one batch: enough to overlap store round trips, few enough to be gentle. */
const BATCH_CONCURRENCY = 8;

export class UsageAggregator {
  constructor(
    private readonly store: UsageStore,
    private readonly alerter: BudgetAlerter | undefined,
    private readonly logger: Logger,
  ) {}

  apply(event: UsageEvent): Promise<UsageApplied> {
    return this.store.apply(event, (a) => this.alert(event, a));
  }

  private readonly alert = async (event: UsageEvent, a: UsageApplied): Promise<void> => {
    await this.alerter?.check(event, a.month_cost_usd);
  };

  /** Applies several events (in one go where the store can); per event, its result or its error. */
  async applyMany(events: readonly UsageEvent[]): Promise<Array<UsageApplied | Error>> {
    if (events.length === 0) return [];
    if (this.store.applyMany) return this.store.applyMany(events, this.alert);
    const out = new Array<UsageApplied | Error>(events.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < events.length) {
        const i = next++;
        try {
          out[i] = await this.apply(events[i] as UsageEvent);
        } catch (err) {
          out[i] = err instanceof Error ? err : new Error(String(err));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(BATCH_CONCURRENCY, events.length) }, worker));
    return out;
  }

  /** Applies a batch; returns the ids of the records that failed (and should be delivered again). */
  async processBatch(records: readonly QueuedRecord[]): Promise<string[]> {
    const failed = new Set<string>();
    const valid: Array<{ id: string; event: UsageEvent }> = [];
    for (const record of records) {
      try {
        valid.push({ id: record.id, event: parseUsageEvent(record.body) });
      } catch (err) {
        failed.add(record.id);
        this.logger.error('usage record rejected', { record_id: record.id, error: (err as Error).message });
      }
    }
    const results = await this.applyMany(valid.map((v) => v.event));
    results.forEach((r, i) => {
      if (!(r instanceof Error)) return;
      const id = (valid[i] as { id: string }).id;
      failed.add(id);
      this.logger.error('usage record not applied', { record_id: id, error: r.message });
    });
    return records.filter((r) => failed.has(r.id)).map((r) => r.id); // in the batch's order
  }
}

const NUMBER_FIELDS = [
  'prompt_tokens',
  'completion_tokens',
  'cached_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
  'cost_usd',
  'latency_ms',
  'status',
] as const;
const STRING_FIELDS = ['request_id', 'tenant_id', 'provider', 'model', 'timestamp'] as const;

/** Reads a usage event from a queue message, or throws naming what is wrong with it. */
export function parseUsageEvent(body: string): UsageEvent {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    throw new Error('usage record is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('usage record is not a JSON object');
  const o = v as Record<string, unknown>;
  for (const f of STRING_FIELDS) if (typeof o[f] !== 'string' || o[f] === '') throw new Error(`usage record: ${f} must be a non-empty string`);
  for (const f of NUMBER_FIELDS)
    if (typeof o[f] !== 'number' || !Number.isFinite(o[f]) || (o[f] as number) < 0) throw new Error(`usage record: ${f} must be a number ≥ 0`);
  if (typeof o.cache_hit !== 'boolean') throw new Error('usage record: cache_hit must be a boolean');
  if (Number.isNaN(Date.parse(o.timestamp as string))) throw new Error('usage record: timestamp must be an ISO date');
  const budget = o.budget_usd === undefined ? 0 : o.budget_usd;
  if (typeof budget !== 'number' || !Number.isFinite(budget) || budget < 0) throw new Error('usage record: budget_usd must be a number ≥ 0');
  return {
    request_id: o.request_id as string,
    ...(typeof o.correlation_id === 'string' ? { correlation_id: o.correlation_id } : {}),
    tenant_id: o.tenant_id as string,
    provider: o.provider as string,
    model: o.model as string,
    prompt_tokens: o.prompt_tokens as number,
    completion_tokens: o.completion_tokens as number,
    cached_tokens: o.cached_tokens as number,
    cache_write_tokens: o.cache_write_tokens as number,
    reasoning_tokens: o.reasoning_tokens as number,
    cost_usd: o.cost_usd as number,
    latency_ms: o.latency_ms as number,
    cache_hit: o.cache_hit,
    status: o.status as number,
    stream: o.stream === true,
    timestamp: o.timestamp as string,
    budget_usd: budget,
    ...(o.estimated === true ? { estimated: true } : {}),
  };
}
