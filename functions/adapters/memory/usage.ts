import type { UsageEvent, UsageReader, UsageSink, UsageTotals } from '../../core/ports';

const SEEN_IDS = 10_000;
const DONE = Promise.resolve();

/** Adds `b` into `a`, keeping cost exact to 1e-10 USD. */
function add(a: UsageTotals, b: UsageTotals): void {
  a.request_count += b.request_count;
  a.prompt_tokens += b.prompt_tokens;
  a.completion_tokens += b.completion_tokens;
  a.cost_usd = Math.round((a.cost_usd + b.cost_usd) * 1e10) / 1e10;
  a.cache_hits += b.cache_hits;
}

const emptyTotals = (): UsageTotals => ({ request_count: 0, prompt_tokens: 0, completion_tokens: 0, cost_usd: 0, cache_hits: 0 });

/**
 * In-process usage pipeline: publish() queues the event and an aggregator drains the queue on
 * the next tick, so the request never waits for accounting. Totals are kept per tenant per day
 * and are idempotent by request id (a repeated event changes nothing).
 */
export class MemoryUsagePipeline implements UsageSink, UsageReader {
  private readonly queue: UsageEvent[] = [];
  /**
   * Request ids already applied, the most recent SEEN_IDS of them: in process an event can only
   * be repeated by a duplicate publish shortly after the first, and a bounded window keeps a
   * long-running server's memory flat.
   */
  private readonly seen = new Set<string>();
  private readonly seenOrder: string[] = [];
  private seenHead = 0;
  /** tenant → day (YYYY-MM-DD) → model → totals */
  private readonly daily = new Map<string, Map<string, Map<string, UsageTotals>>>();
  private scheduled = false;

  publish(event: UsageEvent): Promise<void> {
    this.queue.push(event);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.drainSoon);
    }
    return DONE; // queueing cannot fail: no promise per request
  }

  private readonly drainSoon = (): void => this.drain();

  /** Applies every queued event now (also used by tests to avoid waiting a tick). */
  drain(): void {
    this.scheduled = false;
    for (const event of this.queue.splice(0)) this.apply(event);
  }

  private apply(event: UsageEvent): void {
    if (this.seen.has(event.request_id)) return;
    this.remember(event.request_id);
    const day = event.timestamp.slice(0, 10);
    let days = this.daily.get(event.tenant_id);
    if (!days) this.daily.set(event.tenant_id, (days = new Map()));
    let models = days.get(day);
    if (!models) days.set(day, (models = new Map()));
    let t = models.get(event.model);
    if (!t) models.set(event.model, (t = emptyTotals()));
    add(t, { request_count: 1, prompt_tokens: event.prompt_tokens, completion_tokens: event.completion_tokens, cost_usd: event.cost_usd, cache_hits: event.cache_hit ? 1 : 0 });
  }

  private remember(id: string): void {
    this.seen.add(id);
    if (this.seenOrder.length < SEEN_IDS) {
      this.seenOrder.push(id);
      return;
    }
    // Ring buffer: overwrite (and forget) the oldest id.
    this.seen.delete(this.seenOrder[this.seenHead] as string);
    this.seenOrder[this.seenHead] = id;
    this.seenHead = (this.seenHead + 1) % SEEN_IDS;
  }

  async totals(tenantId: string, fromIso: string, toIso: string): Promise<UsageTotals> {
    const sum = emptyTotals();
    for (const t of Object.values(await this.totalsByModel(tenantId, fromIso, toIso))) add(sum, t);
    return sum;
  }

  async totalsByModel(tenantId: string, fromIso: string, toIso: string): Promise<Record<string, UsageTotals>> {
    this.drain();
    const byModel: Record<string, UsageTotals> = {};
    const from = fromIso.slice(0, 10);
    const to = toIso.slice(0, 10);
    for (const [day, models] of this.daily.get(tenantId) ?? []) {
      if (day < from || day > to) continue;
      for (const [model, t] of models) add((byModel[model] ??= emptyTotals()), t);
    }
    return byModel;
  }
}
