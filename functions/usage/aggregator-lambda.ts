// Lambda entry for the usage aggregator: consumes the usage queue (SQS event source with
// ReportBatchItemFailures) into the usage table and sends budget alerts to SNS. A record that
// fails is reported on its own; SQS delivers only it again, and after maxReceiveCount moves it to
// the dead-letter queue.
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { readFileSync } from 'node:fs';
import { createAlertPublishers, createUsageStores } from '../adapters/usage/backends';
import { BudgetAlerter } from '../core/budget-alerts';
import { loadConfig } from '../core/config';
import { createJsonLogger } from '../core/logger';
import { UsageAggregator } from '../core/usage-aggregator';
import { version } from '../../package.json';

const config = loadConfig(process.env, (path) => readFileSync(path, 'utf8'), version);
const logger = createJsonLogger(config.logLevel, (line) => process.stdout.write(line));

// Started during init; the first invocation waits for it.
const ready: Promise<UsageAggregator> = Promise.all([createUsageStores(config, {}, Date.now), createAlertPublishers(config)])
  .then(([stores, publishers]) => new UsageAggregator(stores.store, new BudgetAlerter(stores.claims, publishers, logger), logger));
ready.catch((err: unknown) => logger.error('aggregator setup failed', { error: err instanceof Error ? err.message : String(err) }));

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const aggregator = await ready;
  const failed = await aggregator.processBatch(event.Records.map((r) => ({ id: r.messageId, body: r.body })));
  logger.info('usage batch applied', { records: event.Records.length, failed: failed.length });
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}
