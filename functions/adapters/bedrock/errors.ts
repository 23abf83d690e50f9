// Bedrock Runtime failures → GatewayError. The SDK raises every failure as an exception named
// after its Smithy shape (HTTP errors, and exception frames inside a ConverseStream alike), so
// the mapping goes by name; transport failures carry a Node error code instead.
import { GatewayError } from '../../core/errors';
import { retryAfterOf, type ResponseHeaders } from '../../core/providers/retry-after';
import { upstreamStatusError } from '../../core/providers/upstream-errors';

export const PROVIDER = 'bedrock';

/** The gateway's own AWS identity was refused or could not be found: a provider-side fault. */
const CREDENTIAL_FAULTS = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidSignatureException',
  'IncompleteSignatureException',
  'MissingAuthenticationTokenException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'CredentialsProviderError',
  'TokenProviderError',
]);

/** Bedrock's side is busy or failing; another provider (or a later try) may do better. */
const SERVICE_FAULTS = new Set([
  'ThrottlingException',
  'ServiceQuotaExceededException',
  'ModelNotReadyException',
  'ServiceUnavailableException',
  'InternalServerException',
  'ModelErrorException',
  'ModelStreamErrorException',
]);

/** The HTTP status of the faults that may advise a wait, for an exception frame that has none. */
const ADVISING_FAULTS: Readonly<Record<string, number>> = { ThrottlingException: 429, ServiceUnavailableException: 503 };

/** Transport failures before or during the response: nothing Bedrock said, the network broke. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
]);

interface ErrorFacts {
  name: string;
  message: string;
  status?: number;
  code?: string;
  /** The HTTP answer's headers, where the SDK kept its raw response. */
  headers: ResponseHeaders;
}

function factsOf(err: unknown): ErrorFacts {
  if (typeof err !== 'object' || err === null) return { name: 'Error', message: String(err), headers: {} };
  const e = err as { name?: unknown; message?: unknown; code?: unknown; $metadata?: { httpStatusCode?: unknown }; $response?: { headers?: unknown } };
  const headers = e.$response?.headers;
  const status = e.$metadata?.httpStatusCode;
  return {
    // Exception frames are named in lowerCamel (throttlingException); HTTP errors in UpperCamel.
    name: typeof e.name === 'string' && e.name !== '' ? e.name.charAt(0).toUpperCase() + e.name.slice(1) : 'Error',
    message: typeof e.message === 'string' ? e.message : '',
    ...(typeof status === 'number' ? { status } : {}),
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    headers: typeof headers === 'object' && headers !== null ? (headers as ResponseHeaders) : {},
  };
}

/** AWS messages may echo an access key id; none of it reaches a client or a log. */
function clean(message: string): string {
  const scrubbed = message.replace(/\b(AKIA|ASIA|AROA|AIDA)[A-Z0-9]{12,}\b/g, '[redacted]').trim();
  return scrubbed.length > 300 ? `${scrubbed.slice(0, 300)}…` : scrubbed;
}

/** Maps anything the SDK threw (or an exception event it delivered) to the gateway's error. */
export function bedrockError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  const f = factsOf(err);
  const message = clean(f.message) || f.name;

  if (f.name === 'ValidationException') {
    return new GatewayError(400, message, { type: 'invalid_request_error', code: 'invalid_request' });
  }
  if (f.name === 'ResourceNotFoundException') {
    return new GatewayError(404, message, { type: 'not_found_error', param: 'model', code: 'model_not_found' });
  }
  if (CREDENTIAL_FAULTS.has(f.name)) {
    // The AWS text may quote the canonical request (signed headers, a session token): never echo it.
    return new GatewayError(502, `${PROVIDER} rejected the gateway's credentials (${f.name}).`, { type: 'api_error', code: 'upstream_error', retryable: true });
  }
  if (f.name === 'ModelTimeoutException') {
    return new GatewayError(504, `${PROVIDER} timed out running the model (ModelTimeoutException).`, {
      type: 'api_error',
      code: 'upstream_timeout',
      retryable: true,
      detail: message,
    });
  }
  if (SERVICE_FAULTS.has(f.name)) {
    const status = f.status !== undefined ? ` (HTTP ${f.status})` : '';
    // AWS's own text stays in the logs (detail): only client faults show a provider's words.
    return new GatewayError(502, `${PROVIDER} failed with ${f.name}${status}.`, {
      type: 'api_error',
      code: 'upstream_error',
      retryable: true,
      detail: message,
      overloaded: f.name === 'ServiceUnavailableException',
      // Throttled (429) or unavailable (503): a retry-after the SDK kept is the deployment's cooldown.
      retryAfter: retryAfterOf(f.status ?? ADVISING_FAULTS[f.name] ?? 0, f.headers),
    });
  }
  if ((f.code !== undefined && NETWORK_CODES.has(f.code)) || f.name === 'TimeoutError') {
    return new GatewayError(502, `Could not reach ${PROVIDER}: ${f.code ?? f.name}.`, { type: 'api_error', code: 'upstream_unreachable', retryable: true });
  }
  if (f.status !== undefined) {
    const credentials = f.status === 401 || f.status === 403;
    return upstreamStatusError(PROVIDER, f.status, { message: credentials ? f.name : `${f.name}: ${message}` }, f.headers);
  }
  return new GatewayError(502, `${PROVIDER} failed: ${f.name}.`, { type: 'api_error', code: 'upstream_error', retryable: true });
}
