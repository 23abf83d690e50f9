// functions/chat — the chat function's Lambda entry (function URL, response streaming): it reads
// the configuration, composes the gateway with its provider keys from Secrets Manager, and passes
// each event through adapters/lambda/function-url.ts. Nothing else belongs here: the gateway is
// functions/core, its composition adapters/compose/gateway.ts.
//
/// <reference types="aws-lambda" />
// The runtime's `awslambda` globals (streamifyResponse, HttpResponseStream) are typed by @types/aws-lambda.
// Lambda entry for the chat function URL (invoke mode RESPONSE_STREAM): the same core as the
// local server, with SSE chunks written to the client as they come.
import { readFileSync } from 'node:fs';
import { assembleGateway, composeFoundation, type ComposedGateway } from '../adapters/compose';
import { createEmfMetrics } from '../adapters/aws/emf-metrics';
import { keyedGateway } from '../adapters/aws/keyed-gateway';
import { createLambdaLogger } from '../adapters/aws/powertools-logger';
import { namedKeyFields, providerKeysSecret } from '../adapters/aws/provider-keys';
import { loadTracing } from '../adapters/aws/tracing';
import { loadBundledOtlpTelemetry } from '../adapters/otel/bundled';
import { jsonResponse, type ApiResponse } from '../core/api-types';
import { loadConfig } from '../config';
import { GatewayError } from '../core/errors';
import { version } from '../../package.json';
import { cancelOnEarlyClose, responseMetadata, toApiRequest, writeBody, type FunctionUrlEvent } from '../adapters/lambda/function-url';

// Cold start, once per execution environment. A bad setting throws here, so the init fails and
// its log names the variable, as `npm start` does.
const config = loadConfig(process.env, (path) => readFileSync(path, 'utf8'), version);
const logger = createLambdaLogger(config.logLevel);
const metrics = createEmfMetrics();
const tracing = loadTracing();
// OTLP_ENDPOINT set: the same spans as the local server, handed over by the gateway's flush before
// each invocation returns; X-Ray tracing (Powertools) goes on beside them.
const telemetry = loadBundledOtlpTelemetry(config, logger);
const { providerSecretArn, providerSecretRefreshMs } = config.secrets;
// Started during init; the first invocation waits for it (the secret read, stores setting up).
const gateways = keyedGateway({
  config,
  logger,
  secret: providerSecretArn
    ? providerKeysSecret({ secretId: providerSecretArn, namedFields: namedKeyFields(config), refreshMs: providerSecretRefreshMs, logger })
    : undefined,
  // The stores are composed while the keys are read; the providers then join them.
  foundation: () => composeFoundation(config, logger, { metrics }),
  // No budget leases here: an environment can be frozen and recycled while holding one.
  compose: async (c, foundation) =>
    assembleGateway(c, logger, foundation, { metrics, wrapProvider: (await tracing)?.wrapProvider, budgetLeases: false, telemetry }),
});

/** What the client gets when this instance could not set up its gateway (the log says why). */
const unavailable = (): ApiResponse =>
  jsonResponse(
    503,
    new GatewayError(503, 'The gateway is starting up or misconfigured; retry shortly.', { type: 'server_error', code: 'gateway_unavailable' }).toBody(),
  );

export const handler = awslambda.streamifyResponse<FunctionUrlEvent>(async (event, responseStream, context) => {
  logger.startInvocation(context);
  // Note: the AWS runtime does not signal a client disconnect on the response stream today
  // (aws-lambda-nodejs-runtime-interface-client#145), so on AWS an abandoned stream runs until the
  // provider finishes or falls silent for UPSTREAM_TIMEOUT; the signal still fires on stream errors.
  const signal = cancelOnEarlyClose(responseStream);
  let composed: ComposedGateway | undefined;
  try {
    const converted = toApiRequest(event, signal, config.maxBodyBytes);
    let response: ApiResponse;
    if (converted.kind === 'response') {
      response = converted.response;
    } else {
      composed = await gateways.get().catch(() => undefined);
      response = composed ? await composed.gateway.handle(converted.request) : unavailable();
    }
    logger.appendKeys({ request_id: response.headers['x-request-id'], provider: response.headers['x-gateway-provider'], status: response.status });
    await writeBody(awslambda.HttpResponseStream.from(responseStream, { ...responseMetadata(response) }), response.body);
  } catch (err) {
    // Gateway.handle never throws; this is a write failure. Truncate rather than end cleanly, so
    // the client sees an incomplete response, not a complete-looking one.
    logger.error('response failed', { error: err instanceof Error ? err.message : String(err) });
    if (!responseStream.writableFinished) responseStream.destroy();
  } finally {
    // Lambda freezes the environment once the handler returns: hand the usage events and budget
    // settlements over and print this invocation's metrics first (the client already has its
    // whole response).
    await composed?.gateway.flush().catch((err: unknown) => logger.error('usage flush failed', { error: err instanceof Error ? err.message : String(err) }));
    metrics.flush();
  }
});
