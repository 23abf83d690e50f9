import type { ErrorBody } from './openai-types';
import type { RetryAfter } from './providers/retry-after';
import { redactText } from './redact';
import { StoreUnavailableError } from './store-guard';

/**
 * Every failure the gateway reports to a client, in OpenAI's error shape.
 * `retryable` marks provider-side faults that a later fallback step may route around.
 */
export class GatewayError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  readonly code: string | null;
  readonly retryable: boolean;
  readonly headers: Record<string, string>;
  /**
   * For the gateway's own logs only, never a response: e.g. a provider's error text behind a
   * 502, which may echo the gateway's credentials (the logger redacts key-shaped text).
   */
  readonly detail?: string;
  /**
   * The upstream said it is overloaded (503, Anthropic's 529, Bedrock's ServiceUnavailable), as
   * opposed to failing: a client API that tells the two apart (Anthropic's 529 overloaded_error) can.
   */
  readonly overloaded: boolean;
  /** The upstream's advice to wait before calling the same deployment again (its 429/503/529 headers). */
  readonly retryAfter?: RetryAfter;

  constructor(
    status: number,
    message: string,
    opts: {
      type?: string;
      param?: string | null;
      code?: string | null;
      retryable?: boolean;
      headers?: Record<string, string>;
      detail?: string;
      overloaded?: boolean;
      retryAfter?: RetryAfter;
    } = {},
  ) {
    super(message);
    this.name = 'GatewayError';
    this.status = status;
    this.type = opts.type ?? defaultType(status);
    this.param = opts.param ?? null;
    this.code = opts.code ?? null;
    this.retryable = opts.retryable ?? false;
    this.headers = opts.headers ?? {};
    if (opts.detail !== undefined) this.detail = opts.detail;
    this.overloaded = opts.overloaded ?? false;
    if (opts.retryAfter !== undefined) this.retryAfter = opts.retryAfter;
  }

  /** What the client sees; key-shaped text is masked whoever built the message. */
  toBody(): ErrorBody {
    return { error: { message: redactText(this.message), type: this.type, param: this.param, code: this.code } };
  }
}

function defaultType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

export const badRequest = (message: string, param: string | null = null, code: string | null = null): GatewayError =>
  new GatewayError(400, message, { type: 'invalid_request_error', param, code });

export const unauthorized = (message: string): GatewayError => new GatewayError(401, message, { type: 'invalid_request_error', code: 'invalid_api_key' });

export const notFound = (message: string): GatewayError => new GatewayError(404, message, { type: 'invalid_request_error', code: 'not_found' });

/**
 * A store the request needs could not answer (STORE_FAILURE_MODE=closed, or nothing to degrade
 * to): 503, retryable, and never the store's own error text.
 */
/** MAX_BODY_BYTES exceeded: every server adapter answers it the same way, before or after reading. */
export function bodyTooLarge(limit: number): GatewayError {
  return new GatewayError(413, `The request body exceeds the ${limit}-byte limit (MAX_BODY_BYTES).`, { code: 'request_too_large' });
}

export const storeUnavailable = (): GatewayError =>
  new GatewayError(503, 'The gateway could not reach its state store in time; retry shortly.', {
    type: 'api_error',
    code: 'store_unavailable',
    retryable: true,
    headers: { 'retry-after': '1' },
  });

/** Converts anything thrown into a GatewayError without leaking internals to the client. */
export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof StoreUnavailableError) return storeUnavailable();
  return new GatewayError(500, 'The gateway hit an internal error while processing the request.', {
    type: 'api_error',
    code: 'internal_error',
  });
}
