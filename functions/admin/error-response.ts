// Anything thrown inside the admin handler becomes OpenAI's error JSON with the right status.
// middy's own HTTP errors (from the JSON body parser) are translated: malformed JSON is a 400
// that says so, a wrong content type a 415.
import { StoreConflictError } from '../core/admin-ports';
import { GatewayError, toGatewayError } from '../core/errors';
import type { Logger } from '../core/logger';

interface MiddyHttpError extends Error {
  statusCode: number;
  cause?: { package?: string; message?: string; data?: unknown };
}

function isMiddyHttpError(err: unknown): err is MiddyHttpError {
  return err instanceof Error && typeof (err as Partial<MiddyHttpError>).statusCode === 'number';
}

export function toAdminError(err: unknown, logger: Logger): GatewayError {
  if (err instanceof GatewayError) return err;
  if (isMiddyHttpError(err) && err.cause?.package === '@middy/http-json-body-parser') {
    if (err.cause.message !== undefined) {
      return new GatewayError(400, `The request body is not valid JSON: ${describeJsonError(err.cause.message)}.`, {
        type: 'invalid_request_error',
        code: 'invalid_json',
      });
    }
    return new GatewayError(415, 'The request body must be JSON: send Content-Type: application/json.', {
      type: 'invalid_request_error',
      code: 'unsupported_media_type',
    });
  }
  if (isMiddyHttpError(err) && err.statusCode >= 400 && err.statusCode < 500) {
    return new GatewayError(err.statusCode, err.message, { type: 'invalid_request_error' });
  }
  if (err instanceof StoreConflictError) {
    return new GatewayError(409, 'The record was changed concurrently; retry the request.', { type: 'invalid_request_error', code: 'conflict' });
  }
  // Never the raw message to the client; the log gets it (no bodies, no credentials in it).
  logger.error('admin request failed', { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
  return toGatewayError(err);
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
