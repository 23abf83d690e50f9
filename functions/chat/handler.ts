/// <reference types="aws-lambda" />
// The runtime's `awslambda` globals (streamifyResponse, HttpResponseStream) are typed by @types/aws-lambda.
// Lambda entry for the chat function URL (invoke mode RESPONSE_STREAM): the same core as the
// local server, with SSE chunks written to the client as they come.
import { readFileSync } from 'node:fs';
import { composeGateway } from '../adapters/compose';
import { loadConfig } from '../core/config';
import { createJsonLogger } from '../core/logger';
import { version } from '../../package.json';
import { cancelOnEarlyClose, responseMetadata, toApiRequest, writeBody, type FunctionUrlEvent } from './function-url';

// Cold start, once per execution environment. A bad setting throws here, so the init fails and
// its log names the variable, as `npm start` does.
const config = loadConfig(process.env, (path) => readFileSync(path, 'utf8'), version);
const logger = createJsonLogger(config.logLevel, (line) => process.stdout.write(line));
// Started during init; the first invocation waits for it (stores may need a moment to set up).
const composed = composeGateway(config, logger);
composed.catch((err: unknown) => logger.error('gateway setup failed', { error: err instanceof Error ? err.message : String(err) }));

export const handler = awslambda.streamifyResponse<FunctionUrlEvent>(async (event, responseStream, context) => {
  // Note: the AWS runtime does not signal a client disconnect on the response stream today
  // (aws-lambda-nodejs-runtime-interface-client#145), so on AWS an abandoned stream runs until the
  // provider finishes or falls silent for UPSTREAM_TIMEOUT; the signal still fires on stream errors.
  const signal = cancelOnEarlyClose(responseStream);
  try {
    const converted = toApiRequest(event, signal, config.maxBodyBytes);
    const response = converted.kind === 'request' ? await (await composed).gateway.handle(converted.request) : converted.response;
    await writeBody(awslambda.HttpResponseStream.from(responseStream, { ...responseMetadata(response) }), response.body);
  } catch (err) {
    // Gateway.handle never throws; this is a write failure. Truncate rather than end cleanly, so
    // the client sees an incomplete response, not a complete-looking one.
    logger.error('response failed', { aws_request_id: context.awsRequestId, error: err instanceof Error ? err.message : String(err) });
    if (!responseStream.writableFinished) responseStream.destroy();
  }
});
