// API Gateway HTTP API adapter (payload format 2.0): the event becomes the core's ApiRequest, and
// an ApiResponse the structured result API Gateway sends back (a streamed body collected whole:
// an HTTP API integration does not stream).
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ApiResponse, ParsedJson } from '../../core/api-types';
import { CancelSignal } from '../../core/cancel';
import { toApiRequest, type Converted } from './function-url';

export type HttpApiEvent = APIGatewayProxyEventV2;
export type HttpApiResult = APIGatewayProxyStructuredResultV2;

/**
 * The path to route on. On a named stage invoked through its execute-api URL, rawPath starts
 * with "/<stage>"; with the $default stage or a custom domain it does not.
 */
export function stagePath(event: Pick<HttpApiEvent, 'rawPath'> & { requestContext?: { stage?: string } }): string {
  const path = event.rawPath || '/';
  const stage = event.requestContext?.stage;
  if (!stage || stage === '$default') return path;
  const prefix = `/${stage}`;
  if (path === prefix) return '/';
  return path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : path;
}

/**
 * The event as an ApiRequest (header names lower-cased, cookies joined into `cookie`, a base64
 * body decoded, the stage prefix stripped, API Gateway's sourceIp as the peer address), or the
 * 413 answer for a body over `maxBodyBytes`. `parsedJson`: the edge's parse of the body, if any.
 */
export function fromHttpApiEvent(event: HttpApiEvent, maxBodyBytes: number, parsedJson?: ParsedJson): Converted {
  // A request/response API has no client to lose mid-answer: the signal never fires.
  const converted = toApiRequest({ ...event, rawPath: stagePath(event) }, new CancelSignal(), maxBodyBytes);
  if (converted.kind === 'response') return converted;
  const request = { ...converted.request, remoteAddress: event.requestContext?.http?.sourceIp ?? '' };
  return { kind: 'request', request: parsedJson ? { ...request, parsedJson } : request };
}

/** The structured result for API Gateway; a streamed body is collected, a Set-Cookie goes where payload 2.0 takes cookies. */
export async function toHttpApiResult(response: ApiResponse): Promise<HttpApiResult> {
  let body = '';
  if (typeof response.body === 'string') body = response.body;
  else for await (const chunk of response.body) body += chunk;
  const { 'set-cookie': setCookie, ...headers } = response.headers;
  const result: HttpApiResult = { statusCode: response.status, headers, body, isBase64Encoded: response.bodyEncoding === 'base64' };
  return setCookie === undefined ? result : { ...result, cookies: [setCookie] };
}
