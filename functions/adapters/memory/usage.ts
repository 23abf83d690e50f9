import type { UsageEvent, UsageReader, UsageSink, UsageTotals } from '../../core/ports';

const SEEN_IDS = 10_000;
const DONE = Promise.resolve();

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
  /** tenant → day (YYYY-MM-DD) → totals */
  private readonly daily = new Map<string, Map<string, UsageTotals>>();
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
    const t = days.get(day) ?? emptyTotals();
    t.request_count += 1;
    t.prompt_tokens += event.prompt_tokens;
    t.completion_tokens += event.completion_tokens;
    t.cost_usd = Math.round((t.cost_usd + event.cost_usd) * 1e10) / 1e10;
    if (event.cache_hit) t.cache_hits += 1;
    days.set(day, t);
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
    this.drain();
    const sum = emptyTotals();
    const from = fromIso.slice(0, 10);
    const to = toIso.slice(0, 10);
    for (const [day, t] of this.daily.get(tenantId) ?? []) {
      if (day < from || day > to) continue;
      sum.request_count += t.request_count;
      sum.prompt_tokens += t.prompt_tokens;
      sum.completion_tokens += t.completion_tokens;
      sum.cost_usd = Math.round((sum.cost_usd + t.cost_usd) * 1e10) / 1e10;
      sum.cache_hits += t.cache_hits;
    }
    return sum;
  }
}
