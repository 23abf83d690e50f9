// Lambda entry for the usage aggregator: consumes the usage queue (SQS event source with
// ReportBatchItemFailures) into the usage table and sends budget alerts to SNS. A record that
// fails is reported on its own; SQS delivers only it again, and after maxReceiveCount moves it to
// the dead-letter queue.
//
// When DynamoDB is down or slow: a record is reported done only once the store said it was
// applied. The DynamoDB client keeps the SDK's retries (3 attempts, backing off): the failures
// they ride out (throttling on a burst, a 5xx) are fast ones, and an SQS redelivery instead would
// cost the queue's visibility timeout and one of the record's receives before the DLQ. Slowness is
// bounded by a deadline on the whole batch (BATCH_DEADLINE_MS, and never later than a second
// before the function's own timeout): past it, every record of the batch is reported failed
// rather than the invocation timing out. Some of them may have been applied meanwhile; applying
// is idempotent by request id, so their redelivery counts nothing twice.
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { readFileSync } from 'node:fs';
import { fromSqsEvent, toBatchResponse } from '../adapters/lambda/sqs';
import { createAlertPublishers, createUsageStores } from '../adapters/usage/backends';
import { BudgetAlerter } from '../core/budget-alerts';
import { loadConfig } from '../config';
import { createJsonLogger } from '../core/logger';
import { UsageAggregator } from '../core/usage-aggregator';
import { version } from '../../package.json';

/** A batch of 100 events takes well under a second on a healthy table: ten is a store in trouble. */
export const BATCH_DEADLINE_MS = 10_000;
/** Left to the function after the deadline, to return its answer before Lambda's timeout. */
const TIMEOUT_MARGIN_MS = 1_000;

const config = loadConfig(process.env, (path) => readFileSync(path, 'utf8'), version);
const logger = createJsonLogger(config.logLevel, (line) => process.stdout.write(line));

// Started during init; the first invocation waits for it.
const ready: Promise<UsageAggregator> = Promise.all([createUsageStores(config, {}, Date.now), createAlertPublishers(config)]).then(
  ([stores, publishers]) => new UsageAggregator(stores.store, new BudgetAlerter(stores.claims, publishers, logger), logger),
);
ready.catch((err: unknown) => logger.error('aggregator setup failed', { error: err instanceof Error ? err.message : String(err) }));

type Outcome = { failed: string[] } | { timedOut: true } | { error: unknown };

export async function handler(event: SQSEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse> {
  const aggregator = await ready;
  const records = fromSqsEvent(event);
  const ids = records.map((r) => r.id);
  const deadlineMs = Math.max(0, Math.min(BATCH_DEADLINE_MS, (context?.getRemainingTimeInMillis() ?? Infinity) - TIMEOUT_MARGIN_MS));
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race<Outcome>([
    aggregator.processBatch(records).then(
      (failed) => ({ failed }),
      (error: unknown) => ({ error }),
    ),
    new Promise<Outcome>((resolve) => {
      timer = setTimeout(() => resolve({ timedOut: true }), deadlineMs);
    }),
  ]);
  clearTimeout(timer);
  let failed: string[];
  if ('failed' in outcome) {
    failed = outcome.failed;
    logger.info('usage batch applied', { records: ids.length, failed: failed.length });
  } else {
    // Not known to be applied: none of them is done.
    failed = ids;
    const reason = 'timedOut' in outcome ? `not done within ${deadlineMs} ms` : outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
    logger.error('usage batch not applied; every record will be delivered again', { records: ids.length, error: reason });
  }
  return toBatchResponse(failed);
}
