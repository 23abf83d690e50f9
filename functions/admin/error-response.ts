// Anything thrown inside the admin API becomes OpenAI's error JSON with the right status.
import { StoreConflictError } from '../core/ports';
import { GatewayError, toGatewayError } from '../core/errors';
import type { Logger } from '../core/logger';

export function toAdminError(err: unknown, logger: Logger): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof StoreConflictError) {
    return new GatewayError(409, 'The record was changed concurrently; retry the request.', { type: 'invalid_request_error', code: 'conflict' });
  }
  // Never the raw message to the client; the log gets it (no bodies, no credentials in it).
  logger.error('admin request failed', { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
  return toGatewayError(err);
}
