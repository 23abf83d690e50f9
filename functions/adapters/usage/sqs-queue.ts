// The usage queue in AWS: events go to SQS in batches of up to ten (one SendMessageBatch per
// tick), for the aggregator function to apply. Entries SQS refuses are retried with back-off;
// what still fails goes straight to the usage store (applying is idempotent, so an event that did
// reach the queue after all is not counted twice), retried briefly, and only if the store refuses
// too, to the log. Every step is bounded: this runs at the end of each Lambda invocation, which
// is billed until it is done, and an environment can be frozen or recycled right after it, so
// there is no buffer that outlives the invocation here: the log (CloudWatch Logs) is the durable
// last resort.
import type { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../../core/logger';
import type { UsageEvent, UsageSink } from '../../core/ports';
import { errorText, keepLostUsage, sleep } from './lost-usage';
import { TickBatcher } from './tick-batcher';

/** SQS's limit of entries per SendMessageBatch. */
const MAX_BATCH = 10;
const DONE = Promise.resolve();

export interface SqsUsageQueueOptions {
  queueUrl: string;
  /** Applies an event directly when the queue would not take it (the durable fallback). */
  fallback: (event: UsageEvent) => Promise<unknown>;
  /** Back-off before each retry of entries SQS refused (default 50 and 250 ms). */
  retryDelaysMs?: readonly number[];
  /** Back-off before each retry of an event the fallback refused (default 100 and 300 ms). */
  fallbackRetryDelaysMs?: readonly number[];
  /** For tests: the back-off wait. */
  sleep?: (ms: number) => Promise<void>;
}

/** Sends one SendMessageBatch; returns the ids of the entries SQS did not accept. */
export type SendBatch = (queueUrl: string, entries: Array<{ Id: string; MessageBody: string }>) => Promise<string[]>;

/**
 * The SDK client's bounds: a SendMessageBatch takes tens of milliseconds, so a second per attempt
 * is generous, and two attempts (the SDK retries throttling and 5xx itself) keep the worst case
 * near 2 s before the direct fallback takes over. The SDK's defaults have no request timeout.
 */
const SQS_CLIENT_BOUNDS = { maxAttempts: 2, requestHandler: { connectionTimeout: 1_000, requestTimeout: 1_000, throwOnRequestTimeout: true } } as const;

/**
 * SendMessageBatch through the AWS SDK. The client module is loaded when the first event is sent
 * (once), not at start: a Lambda's cold start does not pay for it, nor does its first response.
 */
export function sqsBatchSender(client?: SQSClient): SendBatch {
  let ready: Promise<{ sqs: SQSClient; Command: typeof SendMessageBatchCommand }> | undefined;
  return async (queueUrl, entries) => {
    ready ??= import('@aws-sdk/client-sqs').then((m) => ({ sqs: client ?? new m.SQSClient(SQS_CLIENT_BOUNDS), Command: m.SendMessageBatchCommand }));
    const { sqs, Command } = await ready;
    const out = await sqs.send(new Command({ QueueUrl: queueUrl, Entries: entries }));
    return (out.Failed ?? []).map((f) => f.Id ?? '');
  };
}

export class SqsUsageQueue implements UsageSink {
  private readonly batcher = new TickBatcher<UsageEvent>((events) => this.deliverAll(events));
  private readonly retryDelaysMs: readonly number[];
  private readonly fallbackRetryDelaysMs: readonly number[];
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly sendBatch: SendBatch,
    private readonly logger: Logger,
    private readonly opts: SqsUsageQueueOptions,
  ) {
    this.retryDelaysMs = opts.retryDelaysMs ?? [50, 250];
    this.fallbackRetryDelaysMs = opts.fallbackRetryDelaysMs ?? [100, 300];
    this.sleep = opts.sleep ?? sleep;
  }

  publish(event: UsageEvent): Promise<void> {
    this.batcher.add(event);
    return DONE;
  }

  /** A tick's events, in SendMessageBatch calls of at most ten. */
  private async deliverAll(events: UsageEvent[]): Promise<void> {
    const batches: Array<Promise<void>> = [];
    for (let i = 0; i < events.length; i += MAX_BATCH) batches.push(this.deliver(events.slice(i, i + MAX_BATCH)));
    await Promise.all(batches);
  }

  private async deliver(batch: UsageEvent[]): Promise<void> {
    let left = batch;
    let lastError: unknown;
    for (let attempt = 0; left.length > 0; attempt++) {
      if (attempt > 0) {
        const delay = this.retryDelaysMs[attempt - 1];
        if (delay === undefined) break;
        await this.sleep(delay);
      }
      try {
        left = await this.send(left);
        if (left.length > 0) lastError = new Error(`SQS refused ${left.length} of the batch`);
      } catch (err) {
        // The call failed as a whole after the SDK's own retries: the queue is unreachable, and
        // retrying here would only add to what the invocation waits.
        lastError = err;
        break;
      }
    }
    if (left.length === 0) return;
    this.logger.warn('usage queue unavailable; applying usage directly', { events: left.length, error: errorText(lastError) });
    await Promise.all(left.map((event) => this.applyDirectly(event)));
  }

  /** The fallback, retried briefly (a store timeout that did apply is not counted twice); else the log. */
  private async applyDirectly(event: UsageEvent): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.opts.fallback(event);
        return;
      } catch (err) {
        const delay = this.fallbackRetryDelaysMs[attempt];
        if (delay === undefined) return keepLostUsage(this.logger, event, err);
        await this.sleep(delay);
      }
    }
  }

  /** Sends one batch; returns the events SQS did not accept. */
  private async send(batch: UsageEvent[]): Promise<UsageEvent[]> {
    const failed = await this.sendBatch(
      this.opts.queueUrl,
      batch.map((event, i) => ({ Id: String(i), MessageBody: JSON.stringify(event) })),
    );
    return failed.map((id) => batch[Number(id)]).filter((e): e is UsageEvent => e !== undefined);
  }

  flush(): Promise<void> {
    return this.batcher.flush();
  }
}
