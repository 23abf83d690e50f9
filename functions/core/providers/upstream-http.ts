// HTTP client for provider calls: pooled keep-alive connections, an idle timeout that covers the
// response head and every body chunk, and cancellation when the client goes away.
import http from 'node:http';
import https from 'node:https';
import { GatewayError } from '../errors';
import type { ProviderHealth } from './provider';

const agentOptions = { keepAlive: true, keepAliveMsecs: 1000, maxSockets: 512, maxFreeSockets: 64, scheduling: 'lifo' as const };
const httpAgent = new http.Agent(agentOptions);
const httpsAgent = new https.Agent(agentOptions);

export interface UpstreamRequest {
  provider: string;
  url: string;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | Buffer;
  signal: AbortSignal;
  timeoutMs: number;
}

export type UpstreamResponse = http.IncomingMessage & { statusCode: number };

/** Thrown (as the request's abort reason) when the client disconnected. */
export const clientGone = (): GatewayError =>
  new GatewayError(499, 'The client closed the request.', { type: 'api_error', code: 'client_closed_request' });

/**
 * Sends one request and resolves with the response head; the body is left to the caller to read
 * or stream. Network failures become retryable 502s, timeouts 504s.
 */
export function sendUpstream(req: UpstreamRequest): Promise<UpstreamResponse> {
  const url = new URL(req.url);
  const isHttps = url.protocol === 'https:';
  const headers: Record<string, string | number> = { ...req.headers };
  if (req.body !== undefined) headers['content-length'] = Buffer.byteLength(req.body);

  return new Promise((resolve, reject) => {
    if (req.signal.aborted) {
      reject(clientGone());
      return;
    }
    const outgoing = (isHttps ? https : http).request(url, {
      method: req.method,
      headers,
      agent: isHttps ? httpsAgent : httpAgent,
    });
    let response: http.IncomingMessage | undefined;
    // Before the head arrives a failure rejects the promise; after it, the failure is raised by
    // the body stream, so readers see the same GatewayError instead of a bare "aborted".
    const fail = (err: GatewayError): void => {
      if (response) {
        if (!response.complete) response.destroy(err);
        return;
      }
      reject(err);
      outgoing.destroy(err);
    };
    const onAbort = (): void => fail(clientGone());
    req.signal.addEventListener('abort', onAbort, { once: true });

    // Idle timeout: fires when neither the head nor a body chunk arrived for timeoutMs.
    outgoing.setTimeout(req.timeoutMs, () => {
      fail(new GatewayError(504, `${req.provider} did not answer within ${req.timeoutMs} ms.`, {
        type: 'api_error', code: 'upstream_timeout', retryable: true,
      }));
    });
    outgoing.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof GatewayError) {
        fail(err);
        return;
      }
      const message = response
        ? `The connection to ${req.provider} broke mid-response: ${err.code ?? err.message}.`
        : `Could not reach ${req.provider} at ${url.host}: ${err.code ?? err.message}.`;
      fail(new GatewayError(502, message, { type: 'api_error', code: 'upstream_unreachable', retryable: true }));
    });
    outgoing.on('response', (res) => {
      response = res;
      res.on('close', () => req.signal.removeEventListener('abort', onAbort));
      resolve(res as UpstreamResponse);
    });
    outgoing.end(req.body);
  });
}

/** Reads a whole (small) response body as UTF-8 text. */
export async function readText(res: http.IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of res) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

/** Parses a provider's JSON body; malformed JSON is a provider fault (retryable 502). */
export function parseUpstreamJson<T>(provider: string, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new GatewayError(502, `${provider} sent a body that is not valid JSON.`, { type: 'api_error', code: 'upstream_bad_response', retryable: true });
  }
}

/** Short GET used by health checks and model listing. */
export async function getJson(provider: string, url: string, headers: Record<string, string>, signal: AbortSignal, timeoutMs: number): Promise<unknown> {
  const res = await sendUpstream({ provider, url, method: 'GET', headers, signal, timeoutMs });
  const text = await readText(res);
  if (res.statusCode >= 400) {
    throw new GatewayError(502, `${provider} answered ${res.statusCode} on ${new URL(url).pathname}.`, { type: 'api_error', code: 'upstream_error' });
  }
  return parseUpstreamJson(provider, text);
}

/** Health probe: a cheap authenticated GET; tells an unreachable provider from a failing one. */
export async function probe(provider: string, url: string, headers: Record<string, string>, signal: AbortSignal): Promise<ProviderHealth> {
  try {
    await getJson(provider, url, headers, signal, 2000);
    return 'ok';
  } catch (err) {
    const e = err as GatewayError;
    return e.code === 'upstream_unreachable' || e.status === 504 ? 'unreachable' : 'error';
  }
}
