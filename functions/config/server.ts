// The process: where it listens, what it logs, how big and how slow a request may be, and how
// long a shutdown may take.
import * as v from 'valibot';
import { MAX_TIMEOUT_SECONDS, oneOf, positiveInt, readEnv, type Env } from './env';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const satisfies readonly LogLevel[];

export interface ServerSettings {
  host: string;
  port: number;
  logLevel: LogLevel;
  /**
   * TRUST_PROXY: how many reverse proxies in front of the gateway append to X-Forwarded-For.
   * 0 (default): the header is ignored, the peer address is the client (anyone can forge it).
   */
  trustProxy: number;
  maxBodyBytes: number;
  /**
   * REQUEST_TIMEOUT: the local server's deadline for receiving a request's headers and body
   * (not for sending the response, so long streams are not cut).
   */
  requestTimeoutMs: number;
  shutdownTimeoutMs: number;
  drainTimeoutMs: number;
  version: string;
}

/** ":8080" (no host) is the explicit way to listen on every interface. */
const ADDR = v.message(
  v.pipe(
    v.string(),
    v.regex(/^.*:\d{1,5}$/),
    v.transform((addr) => {
      const colon = addr.lastIndexOf(':');
      const host = addr.slice(0, colon).replace(/^\[|\]$/g, '');
      return { host: host === '' ? '0.0.0.0' : host, port: Number(addr.slice(colon + 1)) };
    }),
    v.check(({ port }) => port <= 65535),
  ),
  'must look like ":8080" or "127.0.0.1:8080"',
);

const PORT = v.message(v.pipe(v.string(), v.transform(Number), v.integer(), v.minValue(0), v.maxValue(65535)), 'must be an integer between 0 and 65535');

/** A hop count; true/false are accepted as 1/0, the common single-proxy and no-proxy cases. */
const TRUST_PROXY = v.message(
  v.pipe(
    v.string(),
    v.toLowerCase(),
    v.transform((s) => (s === 'false' ? '0' : s === 'true' ? '1' : s)),
    v.regex(/^\d+$/),
    v.transform(Number),
    v.maxValue(10),
  ),
  'must be false, true or a proxy count from 0 to 10',
);

const ServerEnv = v.object({
  LOG_LEVEL: v.optional(oneOf(LOG_LEVELS), 'info'),
  TRUST_PROXY: v.optional(TRUST_PROXY, '0'),
  MAX_BODY_BYTES: v.optional(positiveInt(), String(6 * 1024 * 1024)),
  REQUEST_TIMEOUT: v.optional(positiveInt(MAX_TIMEOUT_SECONDS), '30'),
  SHUTDOWN_TIMEOUT: v.optional(positiveInt(MAX_TIMEOUT_SECONDS), '30'),
  DRAIN_TIMEOUT: v.optional(positiveInt(MAX_TIMEOUT_SECONDS), '15'),
});

// Loopback unless ADDR names a host, as Ollama does: a fresh `npm start` with the admin API
// open and the documented default key must not be reachable from the LAN.
const DEFAULT_HOST = '127.0.0.1';

export function loadServerSettings(env: Env, version: string): ServerSettings {
  // ADDR wins; PORT is read only without it.
  const { ADDR: addr } = readEnv(env, v.object({ ADDR: v.optional(ADDR) }));
  const listen = addr ?? { host: DEFAULT_HOST, port: readEnv(env, v.object({ PORT: v.optional(PORT, '8080') })).PORT };
  const e = readEnv(env, ServerEnv);
  return {
    ...listen,
    logLevel: e.LOG_LEVEL,
    trustProxy: e.TRUST_PROXY,
    maxBodyBytes: e.MAX_BODY_BYTES,
    requestTimeoutMs: e.REQUEST_TIMEOUT * 1000,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT * 1000,
    drainTimeoutMs: e.DRAIN_TIMEOUT * 1000,
    version,
  };
}
