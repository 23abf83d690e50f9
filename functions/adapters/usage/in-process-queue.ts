// The local usage queue: publish() only queues the event, and the aggregator applies the queue
// on the next tick, so a request never waits for accounting. A failing store (a shared one that
// is away) is retried with back-off; an event it never takes is kept in the log.
import type { Logger } from '../../core/logger';
import type { UsageEvent, UsageSink } from '../../core/ports';
import type { UsageAggregator } from '../../core/usage-aggregator';
import { keepLostUsage, sleep } from './lost-usage';
import { TickBatcher } from './tick-batcher';

const DONE = Promise.resolve();

export interface InProcessQueueOptions {
  /** Back-off before each retry of an event the store refused (default 0.1, 0.5 and 2 s). */
  retryDelaysMs?: readonly number[];
}

export class InProcessUsageQueue implements UsageSink {
  private readonly batcher = new TickBatcher<UsageEvent>((events) => this.deliverBatch(events));
  private readonly retryDelaysMs: readonly number[];

  constructor(private readonly aggregator: UsageAggregator, private readonly logger: Logger, opts: InProcessQueueOptions = {}) {
    this.retryDelaysMs = opts.retryDelaysMs ?? [100, 500, 2000];
  }

  publish(event: UsageEvent): Promise<void> {
    this.batcher.add(event);
    return DONE; // queueing cannot fail: no promise per request
  }

  /** One batch; the events it could not apply are retried one by one. */
  private async deliverBatch(events: UsageEvent[]): Promise<void> {
    const results = await this.aggregator.applyMany(events).catch((err: unknown) => events.map(() => err));
    await Promise.all(results.map((r, i) => (r instanceof Error || r === undefined ? this.retry(events[i] as UsageEvent, r) : undefined)));
  }

  /** Retries an event the store refused, with back-off; keeps it in the log if it never goes in. */
  private async retry(event: UsageEvent, error: unknown): Promise<void> {
    let last = error;
    for (const [attempt, delay] of this.retryDelaysMs.entries()) {
      this.logger.warn('usage event not applied; retrying', { request_id: event.request_id, attempt: attempt + 1, error: last instanceof Error ? last.message : String(last) });
      await sleep(delay);
      try {
        await this.aggregator.apply(event);
        return;
      } catch (err) {
        last = err;
      }
    }
    keepLostUsage(this.logger, event, last);
  }

  flush(): Promise<void> {
    return this.batcher.flush();
  }
}
