import { GatewayError } from '../errors';
import { redactText } from '../redact';
import { retryAfterOf, type ResponseHeaders } from './retry-after';

/** Statuses that are the client's own fault: returned as they are, never retried elsewhere. */
const CLIENT_FAULTS = new Set([400, 404, 413, 422]);
/** Statuses by which an upstream says it is overloaded rather than failing (529: Anthropic's). */
const OVERLOADED = new Set([503, 529]);

export interface UpstreamErrorDetail {
  message: string;
  type?: string;
  param?: string | null;
  code?: string | null;
}

/**
 * Turns a provider's non-2xx answer into the error the gateway reports. Client faults keep the
 * provider's status and message (key-shaped text redacted): the client needs it to fix its
 * request. Everything else (auth failure on the gateway's own key, 408, 409, 429, 5xx) is a
 * provider-side fault: retryable, 502 naming the provider in the gateway's own words; the
 * provider's text, which may echo the gateway's key, goes to the logs only (as `detail`). A 429,
 * 503 or 529 whose `headers` advise a wait carries it as `retryAfter` (the deployment cools down).
 */
export function upstreamStatusError(provider: string, status: number, detail: UpstreamErrorDetail, headers: ResponseHeaders = {}): GatewayError {
  if (CLIENT_FAULTS.has(status)) {
    return new GatewayError(status, redactText(detail.message), {
      type: detail.type ?? (status === 404 ? 'not_found_error' : 'invalid_request_error'),
      param: detail.param ?? null,
      code: detail.code ?? (status === 404 ? 'model_not_found' : null),
    });
  }
  const why = status === 401 || status === 403 ? `rejected the gateway's credentials (status ${status})` : `failed with status ${status}`;
  return new GatewayError(502, `${provider} ${why}.`, {
    type: 'api_error',
    code: 'upstream_error',
    retryable: true,
    detail: truncate(redactText(detail.message), 300),
    overloaded: OVERLOADED.has(status),
    retryAfter: retryAfterOf(status, headers),
  });
}

/** A forward of a client API the provider does not speak: the gateway's own mistake (the pipeline asks `forwards` first). */
export const notForwarded = (provider: string, api: string): GatewayError =>
  new GatewayError(500, `${provider} does not forward ${api} requests.`, { type: 'api_error', code: 'internal_error' });

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
