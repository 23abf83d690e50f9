// Local server bridge: an ApiRequest (node:http) becomes an API Gateway HTTP API v2 event, the
// same middy admin handler runs, and its result becomes an ApiResponse. So `npm start` serves
// /admin/* with exactly the code the deployed admin Lambda runs.
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { ApiRequest, ApiResponse } from '../core/api-types';
import { createAdminHandler, type AdminDeps, type AdminHandler } from './handler';
import { toAdminError } from './error-response';
import { json } from './responses';

export interface LocalAdminOptions {
  /**
   * The TCP peer address for login throttling; the socket's (`req.remoteAddress`) by default.
   * X-Forwarded-For is weighed by the handler, per `AdminDeps.trustProxy`.
   */
  sourceIp?: (req: ApiRequest) => string;
}

/** True for paths the admin handler serves. */
export const isAdminPath = (path: string): boolean => path === '/admin' || path.startsWith('/admin/');

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Builds the event API Gateway would send for this request (payload format 2.0). */
export function toApiGatewayEvent(req: ApiRequest, sourceIp = ''): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  // Format 2.0 joins repeated query parameters with commas, as it does headers.
  const queryStringParameters: Record<string, string> = {};
  for (const key of new Set(req.query.keys())) queryStringParameters[key] = req.query.getAll(key).join(',');
  // Text bodies travel as text, anything else base64-encoded, as API Gateway does.
  let body: string | undefined;
  let isBase64Encoded = false;
  if (req.body.length > 0) {
    try {
      body = utf8.decode(req.body);
    } catch {
      body = req.body.toString('base64');
      isBase64Encoded = true;
    }
  }
  const nowMs = Date.now();
  const host = headers.host ?? 'localhost';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: req.path,
    rawQueryString: req.query.toString(),
    cookies: headers.cookie ? headers.cookie.split(/;\s*/) : undefined,
    headers,
    queryStringParameters: Object.keys(queryStringParameters).length > 0 ? queryStringParameters : undefined,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: host,
      domainPrefix: host.split('.')[0] ?? host,
      http: { method: req.method.toUpperCase(), path: req.path, protocol: 'HTTP/1.1', sourceIp, userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: apigwTime(nowMs),
      timeEpoch: nowMs,
    },
    body,
    isBase64Encoded,
  };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** API Gateway's request time format: `12/Mar/2020:19:03:58 +0000`. */
function apigwTime(ms: number): string {
  const d = new Date(ms);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
}

export function fromApiGatewayResult(result: APIGatewayProxyStructuredResultV2): ApiResponse {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name.toLowerCase()] = String(value);
  const raw = result.body ?? '';
  return { status: result.statusCode ?? 200, headers, body: result.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw };
}

/** A Lambda-like context; middy reads getRemainingTimeInMillis for its early-timeout guard. */
function localContext(requestId: string): Context {
  const deadline = Date.now() + 30_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'ai-gateway-admin-local',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:ai-gateway-admin-local',
    memoryLimitInMB: '0',
    awsRequestId: requestId,
    logGroupName: 'local',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** The local server's `/admin/*` handler: same middy handler, ApiRequest in, ApiResponse out. */
export function adminApiFromApiRequest(
  depsOrHandler: AdminDeps | AdminHandler,
  opts: LocalAdminOptions = {},
): (req: ApiRequest) => Promise<ApiResponse> {
  const handler = typeof depsOrHandler === 'function' ? depsOrHandler : createAdminHandler(depsOrHandler);
  const logger = typeof depsOrHandler === 'function' ? undefined : depsOrHandler.logger;
  return async (req) => {
    const event = toApiGatewayEvent(req, opts.sourceIp?.(req) ?? req.remoteAddress ?? '');
    try {
      return fromApiGatewayResult(await handler(event, localContext(event.requestContext.requestId)));
    } catch (err) {
      // The handler's own onError answers everything; this is a last guard for the server.
      const gw = toAdminError(err, logger ?? { debug() {}, info() {}, warn() {}, error() {} });
      return fromApiGatewayResult(json(gw.status, gw.toBody(), gw.headers));
    }
  };
}
