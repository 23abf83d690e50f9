// GET /v1/usage behind API Gateway (HTTP API, payload 2.0) as one middy handler. The request is
// converted to the core's ApiRequest and served by the gateway itself, so the answer (200, 401,
// 405, the body's shape) is exactly the local server's; any other path is a 404 here, since this
// function serves only the usage route.
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { jsonResponse, type ApiRequest, type ApiResponse } from '../core/api-types';
import { CancelSignal } from '../core/cancel';
import { GatewayError, notFound } from '../core/errors';
import { toApiRequest } from '../chat/function-url';

export const USAGE_PATH = '/v1/usage';

/** What serves the converted request: the composed gateway. */
export interface UsageGateway {
  handle(req: ApiRequest): Promise<ApiResponse>;
}

export type UsageApiEvent = APIGatewayProxyEventV2;
export type UsageApiResult = APIGatewayProxyStructuredResultV2;
export type UsageApiHandler = middy.MiddyfiedHandler<UsageApiEvent, UsageApiResult>;

export interface UsageApiOptions {
  /** Resolves to the gateway (set up at cold start; the first invocation waits for it). */
  gateway: () => Promise<UsageGateway>;
  maxBodyBytes: number;
}

export function createUsageApiHandler(opts: UsageApiOptions): UsageApiHandler {
  const serve = async (event: UsageApiEvent): Promise<UsageApiResult> => {
    const path = routePath(event);
    if (path.replace(/\/+$/, '') !== USAGE_PATH) {
      const err = notFound(`Unknown path: ${event.requestContext.http.method} ${event.rawPath}. This API serves GET ${USAGE_PATH}.`);
      return toResult(jsonResponse(err.status, err.toBody(), err.headers));
    }
    // A request/response API has no client to lose mid-answer: the signal never fires.
    const converted = toApiRequest({ ...event, rawPath: path }, new CancelSignal(), opts.maxBodyBytes);
    if (converted.kind === 'response') return toResult(converted.response);
    const gateway = await opts.gateway().catch(() => undefined);
    if (!gateway) {
      // The setup failure itself is logged by the entry; the client gets an answer in the API's shape.
      const err = new GatewayError(503, 'The usage API is starting up or misconfigured; retry shortly.', { type: 'server_error', code: 'gateway_unavailable' });
      return toResult(jsonResponse(err.status, err.toBody()));
    }
    return toResult(await gateway.handle(converted.request));
  };
  return middy<UsageApiEvent, UsageApiResult>(serve);
}

/** The path without a named stage's prefix ("/prod/v1/usage" on an execute-api URL with stage "prod"). */
function routePath(event: UsageApiEvent): string {
  const path = event.rawPath || '/';
  const stage = event.requestContext?.stage;
  if (stage && stage !== '$default' && path.startsWith(`/${stage}/`)) return path.slice(stage.length + 1);
  return path;
}

async function toResult(response: ApiResponse): Promise<UsageApiResult> {
  let body = '';
  // The usage route answers with a whole body; a stream (never expected here) is collected.
  if (typeof response.body === 'string') body = response.body;
  else for await (const chunk of response.body) body += chunk;
  return { statusCode: response.status, headers: response.headers, body, isBase64Encoded: false };
}
