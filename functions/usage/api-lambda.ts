// functions/usage — the usage Lambda entries: GET /v1/usage behind the HTTP API (api-lambda.ts) and
// the SQS usage aggregator (aggregator-lambda.ts). Each composes only what it serves
// (adapters/compose/); the route and the aggregator themselves are the core's.
//
// Lambda entry for GET /v1/usage behind API Gateway (HTTP API): a tenant's spend this month,
// authenticated by its key, reading the usage table the aggregator writes. It composes only what
// that route needs (the tenant lookup, the usage reader, their store guards), not the providers,
// limits, cache or budgets of the chat function; the route and the shell around it are the local
// server's own code, so the answers (200, 401, 403, 404, 405, headers) are the same.
import type { Context } from 'aws-lambda';
import { readFileSync } from 'node:fs';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { createEmfMetrics } from '../adapters/aws/emf-metrics';
import { createLambdaLogger } from '../adapters/aws/powertools-logger';
import { loadTracing } from '../adapters/aws/tracing';
import { httpApiEdge, type HttpApiEdge } from '../adapters/lambda/http-api-edge';
import type { HttpApiEvent, HttpApiResult } from '../adapters/lambda/http-api';
import { composeUsageApi } from '../adapters/compose/usage-api';
import { serveRoutes } from '../core/api-shell';
import { jsonResponse, type ApiHandler } from '../core/api-types';
import { loadConfig } from '../config';
import { GatewayError } from '../core/errors';
import { authenticateTenant } from '../core/tenant-auth';
import { USAGE_PATH, usageRoute } from '../core/usage-route';
import { version } from '../../package.json';

const config = loadConfig(process.env, (path) => readFileSync(path, 'utf8'), version);
const logger = createLambdaLogger(config.logLevel);
const metrics = createEmfMetrics();
const now = Date.now;

/** The usage route inside the API shell, over the stores it reads. */
async function usageApi(): Promise<ApiHandler> {
  const { tenants, usage } = await composeUsageApi(config, logger, { now, metrics });
  const route = usageRoute({ authenticate: (req) => authenticateTenant(tenants, req), usageReader: usage, now });
  return serveRoutes({ [USAGE_PATH]: { GET: route } }, { logger, now, maxBodyBytes: config.maxBodyBytes, notFoundHint: `This API serves GET ${USAGE_PATH}.` });
}

// Started during init; the first invocation waits for it.
const composed = usageApi();
composed.catch((err: unknown) => logger.error('usage API setup failed', { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }));

/** The setup failure itself is logged above; the client gets an answer in the API's shape. */
const unavailable: ApiHandler = async () => {
  const err = new GatewayError(503, 'The usage API is starting up or misconfigured; retry shortly.', { type: 'server_error', code: 'gateway_unavailable' });
  return jsonResponse(err.status, err.toBody());
};
const api: ApiHandler = async (req) => ((await composed.catch(() => undefined)) ?? unavailable)(req);

const ready: Promise<HttpApiEdge> = loadTracing().then((tracing) => {
  const handler = httpApiEdge(api, { maxBodyBytes: config.maxBodyBytes, logger, parseJson: false });
  return tracing ? handler.use(captureLambdaHandler(tracing.tracer)) : handler;
});

export async function handler(event: HttpApiEvent, context: Context): Promise<HttpApiResult> {
  logger.startInvocation(context);
  try {
    return await (await ready)(event, context);
  } finally {
    metrics.flush(); // store guard transitions
  }
}
