// The local usage queue: publish() only queues the event, and the aggregator applies the queue
// on the next tick, so a request never waits for accounting. A failing store (a shared one that
// is away) is retried with back-off; an event it never takes is kept in the log.
import type { Logger } from '../../core/logger';
import type { UsageEvent, UsageSink } from '../../core/ports';
import type { UsageAggregator } from '../../core/usage-aggregator';
import { keepLostUsage, sleep } from './lost-usage';

const DONE = Promise.resolve();

export interface InProcessQueueOptions {
  /** Back-off before each retry of an event the store refused (default 0.1, 0.5 and 2 s). */
  retryDelaysMs?: readonly number[];
}

export class InProcessUsageQueue implements UsageSink {
  private queue: UsageEvent[] = [];
  private scheduled = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly retryDelaysMs: readonly number[];

  constructor(private readonly aggregator: UsageAggregator, private readonly logger: Logger, opts: InProcessQueueOptions = {}) {
    this.retryDelaysMs = opts.retryDelaysMs ?? [100, 500, 2000];
  }

  publish(event: UsageEvent): Promise<void> {
    this.queue.push(event);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.drainSoon);
    }
    return DONE; // queueing cannot fail: no promise per request
  }

  private readonly drainSoon = (): void => this.drain();

  /** Starts applying every queued event. */
  private drain(): void {
    this.scheduled = false;
    const events = this.queue;
    this.queue = [];
    for (const event of events) {
      const p = this.deliver(event).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
  }

  private async deliver(event: UsageEvent): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.aggregator.apply(event);
        return;
      } catch (err) {
        const delay = this.retryDelaysMs[attempt];
        if (delay === undefined) {
          keepLostUsage(this.logger, event, err);
          return;
        }
        this.logger.warn('usage event not applied; retrying', { request_id: event.request_id, attempt: attempt + 1, error: err instanceof Error ? err.message : String(err) });
        await sleep(delay);
      }
    }
  }

  async flush(): Promise<void> {
    if (this.queue.length > 0) this.drain();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }
}
