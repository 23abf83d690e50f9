// A request body read as JSON, with the answers the admin API has always given: 415 for a body
// that is not declared JSON, 400 naming where the JSON breaks. The Lambda edge parses with middy's
// JSON body parser and maps its refusals onto the same errors, so both runtimes answer alike.
import type { ApiRequest } from './api-types';
import { GatewayError } from './errors';

/** Content types taken as JSON: `application/json` and `application/<x>+json`, with parameters (middy's rule). */
export const JSON_CONTENT_TYPE = /^application\/(.+\+)?json($|;.+)/;

/** Methods whose body is read as JSON; a GET, DELETE or HEAD body is ignored. */
const JSON_BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** True when a request of this method, with a body of this many bytes, has a JSON body to read. */
export function hasJsonBody(method: string, bodyBytes: number): boolean {
  return bodyBytes > 0 && JSON_BODY_METHODS.has(method.toUpperCase());
}

export const unsupportedMediaType = (): GatewayError =>
  new GatewayError(415, 'The request body must be JSON: send Content-Type: application/json.', {
    type: 'invalid_request_error',
    code: 'unsupported_media_type',
  });

/** `parseMessage`: JSON.parse's own complaint, reduced by `describeJsonError`. */
export const malformedJson = (parseMessage: string): GatewayError =>
  new GatewayError(400, `The request body is not valid JSON: ${describeJsonError(parseMessage)}.`, {
    type: 'invalid_request_error',
    code: 'invalid_json',
  });

/**
 * The parsed body, or undefined when the request has none to read (see `hasJsonBody`); throws
 * 415 or 400. An edge's earlier parse (`req.parsedJson`) is used as it is.
 */
export function readJsonBody(req: ApiRequest): unknown {
  if (!hasJsonBody(req.method, req.body.length)) return undefined;
  const parsed = req.parsedJson ?? parseJson(req.headers['content-type'], req.body);
  if (!parsed.ok) throw parsed.error;
  return parsed.value;
}

function parseJson(contentType: string | undefined, body: Buffer): { ok: true; value: unknown } | { ok: false; error: GatewayError } {
  if (contentType === undefined || !JSON_CONTENT_TYPE.test(contentType)) return { ok: false, error: unsupportedMediaType() };
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) as unknown };
  } catch (err) {
    return { ok: false, error: malformedJson((err as Error).message) };
  }
}

/**
 * JSON.parse's complaint, without the body: Node 20 says "Unexpected token } in JSON at position
 * 10", newer versions quote a slice of the body itself, which may hold a password.
 */
function describeJsonError(message: string): string {
  if (!message.includes('"')) return message.replace(/\.$/, '');
  const position = /position (\d+)/.exec(message)?.[1];
  return position === undefined ? 'malformed JSON' : `malformed JSON at position ${position}`;
}
