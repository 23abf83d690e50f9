// An ApiHandler behind API Gateway (HTTP API) as a middy handler: event → ApiRequest → the
// handler → structured result. middy's JSON body parser reads a JSON body ahead of the handler;
// its outcome, success or refusal, travels on the request (`parsedJson`), so the handler refuses
// a bad body at its own step (after authentication, say) with the answer it gives locally. The
// error middleware turns anything thrown into OpenAI's error JSON.
import middy from '@middy/core';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import { API_HEADERS } from '../../core/access-log';
import { jsonResponse, type ApiHandler, type ParsedJson } from '../../core/api-types';
import { toGatewayError, type GatewayError } from '../../core/errors';
import { hasJsonBody, malformedJson, unsupportedMediaType } from '../../core/json-body';
import type { Logger } from '../../core/logger';
import { fromHttpApiEvent, toHttpApiResult, type HttpApiEvent, type HttpApiResult } from './http-api';

export type HttpApiEdge = middy.MiddyfiedHandler<HttpApiEvent, HttpApiResult>;
type EdgeRequest = middy.Request<HttpApiEvent, HttpApiResult>;

export interface HttpApiEdgeOptions {
  maxBodyBytes: number;
  logger: Logger;
  /** Parse a JSON body at the edge (POST, PUT, PATCH with a body); false for routes that take none. */
  parseJson: boolean;
}

/** What @middy/http-json-body-parser throws (an @middy/util HttpError). */
interface ParserError extends Error {
  cause?: { package?: string; message?: string };
}

/**
 * The parser's refusal as the API's own: a JSON.parse complaint (it carries the message) is 400
 * malformed JSON; otherwise (no JSON content type) 415. Anything else is not the parser's.
 */
export function fromParserError(err: unknown): GatewayError | undefined {
  const cause = err instanceof Error ? (err as ParserError).cause : undefined;
  if (cause?.package !== '@middy/http-json-body-parser') return undefined;
  return cause.message !== undefined ? malformedJson(cause.message) : unsupportedMediaType();
}

export function httpApiEdge(api: ApiHandler, opts: HttpApiEdgeOptions): HttpApiEdge {
  // Per invocation, keyed by its event: the parse outcome the handler hands on.
  const parsed = new WeakMap<HttpApiEvent, ParsedJson>();
  const parser = httpJsonBodyParser<HttpApiEvent>();

  const jsonBody: middy.MiddlewareObj<HttpApiEvent, HttpApiResult> = {
    before: async (request: EdgeRequest) => {
      const { event } = request;
      const bytes = Buffer.byteLength(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
      // An oversized body is refused (413) by the conversion, unparsed.
      if (!hasJsonBody(event.requestContext?.http?.method ?? 'GET', bytes) || bytes > opts.maxBodyBytes) return;
      // The parser works on a copy with lower-cased header names (it looks for "content-type"),
      // so the event keeps its raw body for the conversion.
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(event.headers ?? {})) if (value !== undefined) headers[name.toLowerCase()] = value;
      const copy = { ...request, event: { ...event, headers } };
      try {
        await parser.before?.(copy);
        parsed.set(event, { ok: true, value: copy.event.body });
      } catch (err) {
        const error = fromParserError(err);
        if (!error) throw err;
        parsed.set(event, { ok: false, error });
      }
    },
  };

  const errors: middy.MiddlewareObj<HttpApiEvent, HttpApiResult> = {
    onError: async (request: EdgeRequest) => {
      const error = fromParserError(request.error) ?? toGatewayError(request.error);
      if (error.status >= 500)
        opts.logger.error('request failed', {
          error: request.error instanceof Error ? `${request.error.name}: ${request.error.message}` : String(request.error),
        });
      request.response = await toHttpApiResult(jsonResponse(error.status, error.toBody(), { ...error.headers, ...API_HEADERS }));
    },
  };

  const serve = async (event: HttpApiEvent): Promise<HttpApiResult> => {
    const converted = fromHttpApiEvent(event, opts.maxBodyBytes, parsed.get(event));
    if (converted.kind === 'request') return toHttpApiResult(await api(converted.request));
    return toHttpApiResult({ ...converted.response, headers: { ...converted.response.headers, ...API_HEADERS } });
  };

  const handler = middy<HttpApiEvent, HttpApiResult>(serve).use(errors);
  return opts.parseJson ? handler.use(jsonBody) : handler;
}
