// The usage queue in AWS: events go to SQS in batches of up to ten (one SendMessageBatch per
// tick), for the aggregator function to apply. Entries SQS refuses are retried with back-off;
// what still fails goes straight to the usage store (applying is idempotent, so an event that did
// reach the queue after all is not counted twice), and only if that fails too, to the log.
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../../core/logger';
import type { UsageEvent, UsageSink } from '../../core/ports';
import { keepLostUsage, sleep } from './lost-usage';

/** SQS's limit of entries per SendMessageBatch. */
const MAX_BATCH = 10;
const DONE = Promise.resolve();

export interface SqsUsageQueueOptions {
  queueUrl: string;
  /** Applies an event directly when the queue would not take it (the durable fallback). */
  fallback: (event: UsageEvent) => Promise<unknown>;
  /** Back-off before each retry of refused entries (default 50 and 250 ms). */
  retryDelaysMs?: readonly number[];
}

type Sender = Pick<SQSClient, 'send'>;

/**
 * The SQS client, loaded when the first event is sent rather than at start: a Lambda's cold start
 * then does not pay for loading it, and its first response does not wait for it either.
 */
export function lazySqsClient(): () => Promise<Sender> {
  let client: Promise<Sender> | undefined;
  return () => (client ??= import('@aws-sdk/client-sqs').then(({ SQSClient }) => new SQSClient({})));
}

export class SqsUsageQueue implements UsageSink {
  private pending: UsageEvent[] = [];
  private scheduled = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly retryDelaysMs: readonly number[];

  private readonly sqs: () => Promise<Sender>;

  /** `sqs`: a client, or a function that loads one on first use (lazySqsClient). */
  constructor(sqs: Sender | (() => Promise<Sender>), private readonly logger: Logger, private readonly opts: SqsUsageQueueOptions) {
    this.sqs = typeof sqs === 'function' ? sqs : () => Promise.resolve(sqs);
    this.retryDelaysMs = opts.retryDelaysMs ?? [50, 250];
  }

  publish(event: UsageEvent): Promise<void> {
    this.pending.push(event);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.sendSoon);
    }
    return DONE;
  }

  private readonly sendSoon = (): void => this.sendPending();

  private sendPending(): void {
    this.scheduled = false;
    const events = this.pending;
    this.pending = [];
    for (let i = 0; i < events.length; i += MAX_BATCH) {
      const p = this.deliver(events.slice(i, i + MAX_BATCH)).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
  }

  private async deliver(batch: UsageEvent[]): Promise<void> {
    let left = batch;
    let lastError: unknown;
    for (let attempt = 0; left.length > 0; attempt++) {
      if (attempt > 0) {
        const delay = this.retryDelaysMs[attempt - 1];
        if (delay === undefined) break;
        await sleep(delay);
      }
      try {
        left = await this.send(left);
        if (left.length > 0) lastError = new Error(`SQS refused ${left.length} of the batch`);
      } catch (err) {
        lastError = err;
      }
    }
    if (left.length === 0) return;
    this.logger.warn('usage queue unavailable; applying usage directly', { events: left.length, error: lastError instanceof Error ? lastError.message : String(lastError) });
    await Promise.all(left.map(async (event) => {
      try {
        await this.opts.fallback(event);
      } catch (err) {
        keepLostUsage(this.logger, event, err);
      }
    }));
  }

  /** Sends one batch; returns the events SQS did not accept. */
  private async send(batch: UsageEvent[]): Promise<UsageEvent[]> {
    const [sqs, { SendMessageBatchCommand }] = await Promise.all([this.sqs(), import('@aws-sdk/client-sqs')]);
    const out = await sqs.send(new SendMessageBatchCommand({
      QueueUrl: this.opts.queueUrl,
      Entries: batch.map((event, i) => ({ Id: String(i), MessageBody: JSON.stringify(event) })),
    }));
    return (out.Failed ?? []).map((f) => batch[Number(f.Id)]).filter((e): e is UsageEvent => e !== undefined);
  }

  async flush(): Promise<void> {
    if (this.pending.length > 0) this.sendPending();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }
}
