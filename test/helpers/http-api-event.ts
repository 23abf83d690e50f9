// API Gateway HTTP API (payload 2.0) events for a request, built on AWS's documented example
// (test/fixtures/apigw): what the Lambda edges receive for the request a client sends.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { apigwEvent } from '../fixtures/apigw/events';

export interface HttpApiRequestSpec {
  method: string;
  /** Path, optionally with a query string. */
  path: string;
  /** Sent as given (API Gateway lower-cases names; hand-built events may not). */
  headers?: Record<string, string>;
  /** Text travels as text; a Buffer base64-encoded, as API Gateway sends a binary body. */
  body?: string | Buffer;
  sourceIp?: string;
  /** The stage invoked; a named one prefixes the path with "/<stage>" as an execute-api URL does. */
  stage?: string;
  /** API Gateway moves the Cookie header here. */
  cookies?: string[];
}

export function httpApiEvent(spec: HttpApiRequestSpec): APIGatewayProxyEventV2 {
  const named = spec.stage !== undefined && spec.stage !== '$default';
  const path = named ? `/${spec.stage}${spec.path}` : spec.path;
  // Only the spec's headers: none of the documented example's.
  const event = apigwEvent({ method: spec.method, path, sourceIp: spec.sourceIp });
  event.headers = { ...spec.headers };
  if (spec.stage !== undefined) event.requestContext.stage = spec.stage;
  event.cookies = spec.cookies;
  if (Buffer.isBuffer(spec.body)) {
    event.body = spec.body.toString('base64');
    event.isBase64Encoded = true;
  } else {
    event.body = spec.body;
    event.isBase64Encoded = false;
  }
  return event;
}
