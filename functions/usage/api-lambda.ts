// Lambda entry for GET /v1/usage behind API Gateway (HTTP API): a tenant's spend this month,
// authenticated by its key, answered by the same gateway code as the local server, reading the
// usage table the aggregator writes.
import type { Context } from 'aws-lambda';
import { readFileSync } from 'node:fs';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { composeGateway } from '../adapters/compose';
import { createEmfMetrics } from '../adapters/aws/emf-metrics';
import { createLambdaLogger } from '../adapters/aws/powertools-logger';
import { loadTracing } from '../adapters/aws/tracing';
import { loadConfig } from '../core/config';
import { version } from '../../package.json';
import { createUsageApiHandler, type UsageApiEvent, type UsageApiHandler, type UsageApiResult } from './api-handler';

const config = loadConfig(process.env, (path) => readFileSync(path, 'utf8'), version);
const logger = createLambdaLogger(config.logLevel);
const metrics = createEmfMetrics();
// Started during init; the first invocation waits for it. This function only reads (no budget
// is reserved here), and its environment may be frozen at any time: no budget leases.
const composed = composeGateway(config, logger, { metrics, budgetLeases: false });
composed.catch((err: unknown) => logger.error('usage API setup failed', { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }));

const ready: Promise<UsageApiHandler> = loadTracing().then((tracing) => {
  const handler = createUsageApiHandler({ gateway: async () => (await composed).gateway, maxBodyBytes: config.maxBodyBytes });
  return tracing ? handler.use(captureLambdaHandler(tracing.tracer)) : handler;
});

export async function handler(event: UsageApiEvent, context: Context): Promise<UsageApiResult> {
  logger.startInvocation(context);
  try {
    return await (await ready)(event, context);
  } finally {
    metrics.flush(); // rate-limit rejections, recorded by the gateway's tenant gate
  }
}
