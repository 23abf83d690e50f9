// HTTP client for provider calls: pooled keep-alive connections, an idle timeout that covers the
// response head and every body chunk, and cancellation when the client goes away.
import http from 'node:http';
import https from 'node:https';
import { GatewayError } from '../errors';
import type { CancelSignal } from '../cancel';
import type { ProviderHealth } from './provider';
import { badResponse, brokenStreamError, DEFAULT_MAX_RESPONSE_BYTES, responseTooLarge } from './stream-framing';

export interface UpstreamRequest {
  provider: string;
  url: string;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Cancels the call when the client goes away; absent for the gateway's own probes. */
  signal?: CancelSignal;
  timeoutMs: number;
  /** The W3C trace context of the CLIENT span this call is made in, sent as `traceparent`. */
  traceparent?: string;
  /** The trace's W3C `tracestate` (the client's vendors' entries), sent with `traceparent`. */
  tracestate?: string;
}

export type UpstreamResponse = http.IncomingMessage & { statusCode: number };

/** Raised when the client disconnected and its upstream call was cancelled. */
export const clientGone = (): GatewayError => new GatewayError(499, 'The client closed the request.', { type: 'api_error', code: 'client_closed_request' });

interface Endpoint {
  module: typeof http | typeof https;
  agent: http.Agent;
  options: http.RequestOptions;
  /** The Host header: the URL's host, with its port unless it is the scheme's default. */
  host: string;
}

/**
 * One keep-alive pool per (scheme, timeout). The idle timeout lives on the agent so that a reused
 * socket keeps it: setting it per request re-arms timers and costs ~10 µs on the hot path.
 */
const agents = new Map<string, http.Agent>();
/** Parsed request options per URL, so no URL is parsed per request. */
const endpoints = new Map<string, Endpoint>();

function endpoint(url: string, timeoutMs: number): Endpoint {
  const key = `${timeoutMs} ${url}`;
  let found = endpoints.get(key);
  if (found) return found;
  const parsed = new URL(url);
  const secure = parsed.protocol === 'https:';
  const agentKey = `${secure ? 'https' : 'http'} ${timeoutMs}`;
  let agent = agents.get(agentKey);
  if (!agent) {
    const options = { keepAlive: true, keepAliveMsecs: 1000, maxSockets: 512, maxFreeSockets: 512, scheduling: 'lifo' as const, timeout: timeoutMs };
    agent = secure ? new https.Agent(options) : new http.Agent(options);
    agents.set(agentKey, agent);
  }
  found = {
    module: secure ? https : http,
    agent,
    options: {
      protocol: parsed.protocol,
      hostname: parsed.hostname.replace(/^\[|\]$/g, ''),
      port: parsed.port,
      path: `${parsed.pathname}${parsed.search}`,
      agent,
    },
    host: parsed.host,
  };
  if (endpoints.size < 1000) endpoints.set(key, found);
  return found;
}

/** Headers the gateway sets itself on every call: a caller's own of these names is not sent. */
const OWN_HEADERS = new Set(['host', 'content-length', 'traceparent', 'tracestate']);

/**
 * The request's headers as one flat list of names and values, Host included. Node validates each
 * as it writes the head, but skips the per-header bookkeeping it does for a headers object
 * (`setHeader`, then a second pass): that costs a few µs per call on the hot path.
 */
function outgoingHeaders(req: UpstreamRequest, host: string): string[] {
  const headers = ['host', host];
  for (const name in req.headers) if (!OWN_HEADERS.has(name.toLowerCase())) headers.push(name, req.headers[name] as string);
  if (req.body !== undefined) headers.push('content-length', String(Buffer.byteLength(req.body)));
  // Every HTTP upstream (OpenAI, Azure, Anthropic, Ollama) continues the request's trace.
  if (req.traceparent) {
    headers.push('traceparent', req.traceparent);
    if (req.tracestate) headers.push('tracestate', req.tracestate);
  }
  return headers;
}

/**
 * Sends one request and resolves with the response head; the body is left to the caller to read
 * or stream. Network failures become retryable 502s, timeouts 504s; a cancelled call fails with
 * 499. A failure after the head is raised by the body stream itself.
 */
export function sendUpstream(req: UpstreamRequest): Promise<UpstreamResponse> {
  const target = endpoint(req.url, req.timeoutMs);
  const headers = outgoingHeaders(req, target.host);

  return new Promise((resolve, reject) => {
    if (req.signal?.cancelled) {
      reject(clientGone());
      return;
    }
    const outgoing = target.module.request({ ...target.options, method: req.method, headers });
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
    const unsubscribe = req.signal?.onCancel(() => fail(clientGone()));

    // The agent's idle timeout: neither the head nor a body chunk arrived for timeoutMs.
    outgoing.on('timeout', () => {
      fail(
        new GatewayError(504, `${req.provider} did not answer within ${req.timeoutMs} ms.`, {
          type: 'api_error',
          code: 'upstream_timeout',
          retryable: true,
        }),
      );
    });
    outgoing.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof GatewayError) {
        fail(err);
        return;
      }
      const message = response
        ? `The connection to ${req.provider} broke mid-response: ${err.code ?? err.message}.`
        : `Could not reach ${req.provider} at ${target.options.hostname}:` +
          `${target.options.port || (target.module === https ? 443 : 80)}: ${err.code ?? err.message}.`;
      fail(new GatewayError(502, message, { type: 'api_error', code: 'upstream_unreachable', retryable: true }));
    });
    outgoing.on('response', (res) => {
      response = res;
      if (unsubscribe) res.once('close', unsubscribe);
      resolve(res as UpstreamResponse);
    });
    outgoing.end(req.body);
  });
}

/**
 * Reads a whole response body as UTF-8 text (events, not an async iterator: cheaper per call).
 * Capped at `maxBytes` (MAX_RESPONSE_BYTES): an answer announced or found larger is dropped at
 * once, so a runaway upstream cannot grow the process. A connection that breaks mid-body is a
 * provider fault (retryable 502 naming the cause), not an internal error.
 */
export function readText(res: http.IncomingMessage, provider = 'the provider', maxBytes = DEFAULT_MAX_RESPONSE_BYTES): Promise<string> {
  return new Promise((resolve, reject) => {
    const announced = Number(res.headers['content-length']);
    if (announced > maxBytes) {
      res.destroy();
      reject(responseTooLarge(provider, maxBytes, 'an answer'));
      return;
    }
    const parts: Buffer[] = [];
    let bytes = 0;
    res.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBytes) {
        res.destroy(responseTooLarge(provider, maxBytes, 'an answer'));
        return;
      }
      parts.push(chunk);
    });
    res.once('end', () => resolve(parts.length === 1 ? (parts[0] as Buffer).toString('utf8') : Buffer.concat(parts).toString('utf8')));
    res.once('error', (err) => reject(brokenStreamError(provider, err)));
  });
}

/**
 * A stream request answered 2xx with something other than the expected media type (an HTML
 * error page from a proxy, say) would read as an empty stream: refuse it as a provider fault.
 * A missing content-type is let through (some compatible servers omit it).
 */
export function expectMediaType(res: http.IncomingMessage, provider: string, accepted: readonly string[]): void {
  const type = res.headers['content-type'];
  if (type === undefined || accepted.some((a) => type.toLowerCase().startsWith(a))) return;
  res.resume(); // discard the body so the socket can be reused
  throw badResponse(provider, `${type.split(';')[0]} where a stream (${accepted.join(' or ')}) was expected`);
}

/** Parses a provider's JSON body; malformed JSON is a provider fault (retryable 502). */
export function parseUpstreamJson<T>(provider: string, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw badResponse(provider, 'a body that is not valid JSON');
  }
}

/** Short GET used by health checks and model listing. */
export async function getJson(provider: string, url: string, headers: Record<string, string>, timeoutMs: number): Promise<unknown> {
  const res = await sendUpstream({ provider, url, method: 'GET', headers, timeoutMs });
  const text = await readText(res, provider);
  if (res.statusCode >= 400) {
    throw new GatewayError(502, `${provider} answered ${res.statusCode} on ${new URL(url).pathname}.`, { type: 'api_error', code: 'upstream_error' });
  }
  return parseUpstreamJson(provider, text);
}

/** Health probe: a cheap authenticated GET; tells an unreachable provider from a failing one. */
export async function probe(provider: string, url: string, headers: Record<string, string>): Promise<ProviderHealth> {
  try {
    await getJson(provider, url, headers, 2000);
    return 'ok';
  } catch (err) {
    const e = err as GatewayError;
    return e.code === 'upstream_unreachable' || e.status === 504 ? 'unreachable' : 'error';
  }
}
