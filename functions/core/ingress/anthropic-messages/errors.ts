// Errors as Anthropic's clients expect them: `{"type":"error","error":{"type","message"}}`, with
// Anthropic's error types and status codes. The gateway's 503 (every target's breaker open, a
// store out of reach), and a failure of every target because its upstream was overloaded, are
// Anthropic's 529 overloaded_error, which its SDKs retry like a 503.
import type { GatewayError } from '../../errors';
import { redactText } from '../../redact';
import type { AnthropicErrorBody } from '../../providers/anthropic/types';

/** Anthropic's status for a service that cannot take the request now. */
export const OVERLOADED_STATUS = 529;

/** The status an error is answered with on the Messages API. */
export function messagesErrorStatus(err: GatewayError): number {
  return err.status === 503 || (err.overloaded && err.status >= 500) ? OVERLOADED_STATUS : err.status;
}

/** Anthropic's error type for an answer's status (its documented table; other 4xx are invalid requests). */
export function messagesErrorType(status: number): string {
  switch (status) {
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 503:
    case OVERLOADED_STATUS:
      return 'overloaded_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

/** The JSON body of an error answer; key-shaped text is masked whoever built the message. */
export function messagesErrorBody(err: GatewayError): AnthropicErrorBody {
  return { type: 'error', error: { type: messagesErrorType(messagesErrorStatus(err)), message: redactText(err.message) } };
}
