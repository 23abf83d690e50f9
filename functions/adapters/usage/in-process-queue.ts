// The local usage queue: publish() only queues the event, and the aggregator applies the queue
// on the next tick, so a request never waits for accounting. Events the store refuses (a shared
// store that is down or slow) are kept in a bounded buffer and re-applied in batches, with a
// back-off capped at maxBackoffMs so a store that comes back is found within about that long,
// until they go in. Re-applying is safe: the store counts a request id once, so an attempt that
// timed out after it did apply is not counted twice. Only what the buffer cannot hold (the
// oldest, beyond maxBuffered) or what is still refused when flush() gives up goes to the log,
// whole, for replay.
import type { Logger } from '../../core/logger';
import type { UsageEvent, UsageSink } from '../../core/ports';
import type { UsageAggregator } from '../../core/usage-aggregator';
import { BoundedFifo } from './bounded-fifo';
import { errorText, keepLostUsage, sleep } from './lost-usage';
import { TickBatcher } from './tick-batcher';

const DONE = Promise.resolve();
/**
 * Events re-applied per retry while the store refuses everything: enough to find it back, few
 * enough not to send a down store hundreds of requests every back-off, and quick to go through
 * once it is back (a full batch on a slow store could take seconds before the first success).
 */
const PROBE_BATCH = 10;

export interface InProcessQueueOptions {
  /** Events kept while the store refuses them (default 100,000; about 50 MB at most). Beyond it the oldest go to the log. */
  maxBuffered?: number;
  /** Events re-applied per retry (default 200). */
  retryBatch?: number;
  /** Back-off after the first refused retry, doubled each time up to maxBackoffMs (defaults 50 and 500 ms). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long flush() waits for the buffer to drain before keeping what is left in the log (default 5 s). */
  flushTimeoutMs?: number;
  /** For tests: the back-off wait and the clock of flush()'s bound. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** An event the store refused, with the last reason (kept with it if it ends in the log). */
interface Refused {
  event: UsageEvent;
  error: unknown;
}

export class InProcessUsageQueue implements UsageSink {
  private readonly batcher = new TickBatcher<UsageEvent>((events) => this.deliverBatch(events));
  private readonly buffer: BoundedFifo<Refused>;
  private readonly retryBatch: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly flushTimeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  /** Events taken from the buffer by the retry under way. */
  private retryingCount = 0;
  /** The retry loop, while the buffer holds anything. */
  private retrying: Promise<void> | undefined;
  /** Set by flush(): when the retry loop gives up and keeps the rest in the log. */
  private giveUpAt: number | undefined;
  /** The last attempt applied nothing: new events join the buffer instead of hitting the store. */
  private refusing = false;
  /** One warning per episode of overflow, not one per evicted event. */
  private overflowing = false;
  /** Why the store last refused (kept with events buffered without an attempt of their own). */
  private lastError: unknown;

  constructor(
    private readonly aggregator: UsageAggregator,
    private readonly logger: Logger,
    opts: InProcessQueueOptions = {},
  ) {
    this.buffer = new BoundedFifo(opts.maxBuffered ?? 100_000);
    this.retryBatch = opts.retryBatch ?? 200;
    this.minBackoffMs = opts.minBackoffMs ?? 50;
    this.maxBackoffMs = opts.maxBackoffMs ?? 500;
    this.flushTimeoutMs = opts.flushTimeoutMs ?? 5_000;
    this.sleep = opts.sleep ?? sleep;
    this.now = opts.now ?? Date.now;
  }

  publish(event: UsageEvent): Promise<void> {
    this.batcher.add(event);
    return DONE; // queueing cannot fail: no promise per request
  }

  /** Events still waiting for the store (in the buffer or in a retry under way). */
  get buffered(): number {
    return this.buffer.size + this.retryingCount;
  }

  /**
   * Resolves once every event published so far is applied, or, if the store still refuses some
   * after flushTimeoutMs, once those are kept in the log (shutdown must not wait forever).
   */
  async flush(): Promise<void> {
    await this.batcher.flush();
    if (!this.retrying) return;
    this.giveUpAt = Math.min(this.giveUpAt ?? Infinity, this.now() + this.flushTimeoutMs);
    await this.retrying;
  }

  /** One tick's events; those the store refuses join the buffer. */
  private async deliverBatch(events: UsageEvent[]): Promise<void> {
    if (this.refusing) return this.keep(events.map((event) => ({ event, error: this.lastError })));
    const refused = await this.apply(events);
    if (refused.length === events.length) this.refusing = true;
    if (refused.length > 0) this.keep(refused);
  }

  /** Applies events; returns the ones not applied, with why. Never rejects. */
  private async apply(events: readonly UsageEvent[]): Promise<Refused[]> {
    const results: unknown[] = await this.aggregator.applyMany(events).catch((err: unknown) => events.map(() => err));
    const refused: Refused[] = [];
    events.forEach((event, i) => {
      const r = results[i];
      if (r instanceof Error || typeof r !== 'object' || r === null) refused.push({ event, error: (this.lastError = r ?? new Error('no result')) });
    });
    return refused;
  }

  private keep(refused: Refused[]): void {
    if (refused.length === 0) return;
    if (this.buffer.size === 0 && !this.retrying) {
      this.logger.warn('usage store refused events; buffering and retrying', { events: refused.length, error: errorText(refused[0]?.error) });
    }
    this.evicted(this.buffer.push(refused));
    this.retrying ??= this.retryLoop();
  }

  /** Re-applies the buffer, oldest first, until it is empty or flush() gives up. */
  private async retryLoop(): Promise<void> {
    await Promise.resolve(); // `retrying` is set before the loop can end
    let backoff = this.minBackoffMs;
    let applied = 0;
    try {
      while (this.buffer.size > 0) {
        if (this.giveUpAt !== undefined && this.now() >= this.giveUpAt) {
          const left = this.buffer.drain();
          this.logger.warn('usage store still refusing at flush; keeping the buffered events in the log', { events: left.length });
          for (const r of left) keepLostUsage(this.logger, r.event, r.error);
          break;
        }
        await this.sleep(backoff);
        const batch = this.buffer.take(this.refusing ? Math.min(PROBE_BATCH, this.retryBatch) : this.retryBatch);
        this.retryingCount = batch.length;
        const refused = await this.apply(batch.map((r) => r.event));
        this.retryingCount = 0;
        applied += batch.length - refused.length;
        this.evicted(this.buffer.putBack(refused));
        // Progress: carry on at once (the store is back, or only some events are held up).
        // None: wait longer next time, up to the cap, so a store that is down is not hammered.
        const wasRefusing = this.refusing;
        this.refusing = refused.length === batch.length;
        if (wasRefusing && !this.refusing) this.logger.warn('usage store taking events again; draining the buffer', { buffered: this.buffered });
        backoff = !this.refusing ? 0 : backoff === 0 ? this.minBackoffMs : Math.min(backoff * 2, this.maxBackoffMs);
      }
    } finally {
      // In the same step as the loop saw the buffer empty (no await between): an event refused
      // right after starts a new loop rather than joining one that has decided to stop.
      this.retrying = undefined;
      this.giveUpAt = undefined;
      this.refusing = false;
      this.overflowing = false;
    }
    if (applied > 0) this.logger.info('usage buffer drained', { applied });
  }

  private evicted(lost: Refused[]): void {
    if (lost.length === 0) return;
    if (!this.overflowing) {
      this.overflowing = true;
      this.logger.warn('usage buffer full; keeping the oldest events in the log', { max_buffered: this.buffer.capacity });
    }
    for (const r of lost) keepLostUsage(this.logger, r.event, r.error);
  }
}
