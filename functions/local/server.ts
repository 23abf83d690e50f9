// node:http adapter: turns each HTTP exchange into an ApiRequest for the core, writes the
// ApiResponse back (streams flushed chunk by chunk), and drains in-flight work on shutdown.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApiRequest, ApiResponse } from '../core/api-types';
import { writeChunks } from '../adapters/stream-writer';
import { CancelSignal } from '../core/cancel';
import { jsonResponse } from '../core/api-types';
import { bodyTooLarge, GatewayError } from '../core/errors';
import { logAccess, withApiHeaders } from '../core/access-log';
import { endRefusalSpan } from '../core/api-shell';
import type { Span } from '../core/ports/telemetry';
import { NO_SPAN } from '../core/telemetry';
import { requestIds } from '../core/request-context';
import type { Logger } from '../core/logger';
import { BodyBudget, defaultBodyBudget } from './body-budget';
import { answerClientError } from './client-errors';
import { refuseAndLinger, type LingerBounds } from './linger';
import { defaultPendingCap, trackPendingConnections } from './pending-connections';

export interface ServerOptions {
  handle: (req: ApiRequest) => Promise<ApiResponse>;
  /**
   * Judges a request from its head alone (a missing or unknown key) before its body is read;
   * a response refuses it, undefined lets it through.
   */
  refuseBeforeBody?: (req: Omit<ApiRequest, 'body'>) => Promise<ApiResponse | undefined>;
  /** The status and JSON body of the server's own refusals on a path (a body over the limit); the error's own and OpenAI's shape when absent. */
  errorAnswer?: (path: string, error: GatewayError) => { status: number; body: unknown };
  /** The SERVER span of a request the server refuses itself (begun at `startMs`, epoch ms); none when absent. */
  refusalSpan?: (req: Omit<ApiRequest, 'body'>, startMs: number) => Span;
  maxBodyBytes: number;
  /** Deadline for receiving a request's headers and body (never its response); default 30 s. */
  requestTimeoutMs?: number;
  /** Bytes of request bodies buffered at once across the process; default max(4 × maxBodyBytes, 64 MiB). */
  bodyBudgetBytes?: number;
  /** How much of a refused request's body is read and discarded before closing; default 2 × maxBodyBytes (at least 1 MiB) and 5 s. */
  linger?: Partial<LingerBounds>;
  /** Connections still sending their request at once; past it the oldest is closed. Default: half the open-files limit. */
  maxPendingConnections?: number;
  logger: Logger;
}

export interface RunningServer {
  server: http.Server;
  url: string;
  /** Requests (including open streams) being served right now. */
  inFlight(): number;
  /** Stops accepting, waits up to drainMs for in-flight work, then closes what is left. */
  shutdown(drainMs: number): Promise<void>;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const EMPTY = Buffer.alloc(0);

interface ServeContext {
  opts: ServerOptions;
  budget: BodyBudget;
  linger: LingerBounds;
}

function createServer(opts: ServerOptions): { server: http.Server; inFlight: () => number; drained: () => Promise<void> } {
  let inFlight = 0;
  let waiters: Array<() => void> = [];
  const requestTimeout = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const ctx: ServeContext = {
    opts,
    budget: new BodyBudget(opts.bodyBudgetBytes ?? defaultBodyBudget(opts.maxBodyBytes)),
    linger: { bytes: opts.linger?.bytes ?? Math.max(2 * opts.maxBodyBytes, 1024 * 1024), ms: opts.linger?.ms ?? 5000 },
  };

  const server = http.createServer(
    {
      // Headers and body must arrive within requestTimeout: a client trickling bytes cannot hold a
      // connection (and its buffered body) for ever. Node stops this clock once the request is
      // complete, so a streamed response may run as long as it needs.
      requestTimeout,
      headersTimeout: Math.min(66_000, requestTimeout),
      keepAliveTimeout: 65_000,
      // How often Node looks for requests past their deadline (its default is 30 s).
      connectionsCheckingInterval: Math.max(100, Math.min(5000, Math.floor(requestTimeout / 4))),
    },
    (req, res) => {
      inFlight += 1;
      const cancel = new CancelSignal();
      // 'close' before the response finished means the client went away: cancel upstream work.
      res.once('close', () => {
        if (!res.writableFinished) cancel.cancel();
        inFlight -= 1;
        if (inFlight === 0) {
          for (const w of waiters) w();
          waiters = [];
        }
      });
      serve(req, res, cancel, ctx).catch((err: unknown) => {
        opts.logger.error('response failed', { error: err instanceof Error ? err.message : String(err) });
        res.destroy();
      });
    },
  );
  // `Expect: 100-continue` (curl sends it for bodies over 1 KiB): Node would invite the body at
  // once; instead the request is judged first and only invited when it may send it (see serve).
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => answerClientError(err, socket, opts.logger, opts.refusalSpan));
  server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => server.emit('request', req, res));
  trackPendingConnections(server, opts.maxPendingConnections ?? defaultPendingCap());
  return {
    server,
    inFlight: () => inFlight,
    drained: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
  };
}

async function serve(req: http.IncomingMessage, res: http.ServerResponse, cancel: CancelSignal, ctx: ServeContext): Promise<void> {
  const { opts } = ctx;
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const head: Omit<ApiRequest, 'body'> = {
    method: req.method ?? 'GET',
    path: q === -1 ? url : url.slice(0, q),
    query: new URLSearchParams(q === -1 ? '' : url.slice(q + 1)),
    // Node already lower-cases names and joins repeated headers; only set-cookie stays an array.
    headers: req.headers as Record<string, string | undefined>,
    signal: cancel,
    remoteAddress: req.socket.remoteAddress,
  };
  let body: Buffer = EMPTY;
  if (hasBody(req)) {
    const startedMs = Date.now();
    if (Number(req.headers['content-length'] ?? 0) > opts.maxBodyBytes) {
      return refuseAndLinger(req, res, refusal(head, bodyTooLarge(opts.maxBodyBytes), opts, startedMs), ctx.linger);
    }
    const early = opts.refuseBeforeBody ? await opts.refuseBeforeBody(head) : undefined;
    if (early) return refuseAndLinger(req, res, early, ctx.linger);
    if (/100-continue/i.test(req.headers.expect ?? '')) res.writeContinue();
    const read = await readBody(req, opts.maxBodyBytes, ctx.budget);
    if (read === 'aborted') return;
    if (read === 'too-large') return refuseAndLinger(req, res, refusal(head, bodyTooLarge(opts.maxBodyBytes), opts, startedMs), ctx.linger);
    if (read === 'over-budget') {
      opts.logger.warn('request body refused: the bytes buffered for bodies in flight are at their cap', { cap_bytes: ctx.budget.capacity });
      return refuseAndLinger(req, res, refusal(head, serverBusy(), opts, startedMs), ctx.linger);
    }
    body = read;
  }
  try {
    await write(res, await opts.handle({ ...head, body }));
  } finally {
    ctx.budget.give(body.length);
  }
}

/** The server's own refusal, shaped and access-logged as the core's are (ids, nosniff, no-store). */
function refusal(
  head: Omit<ApiRequest, 'body'>,
  error: GatewayError,
  opts: Pick<ServerOptions, 'logger' | 'errorAnswer' | 'refusalSpan'>,
  startedMs: number,
): ApiResponse {
  const span = opts.refusalSpan?.(head, startedMs) ?? NO_SPAN;
  const ids = requestIds({ ...head, body: EMPTY }, span);
  const { status, body } = opts.errorAnswer?.(head.path, error) ?? { status: error.status, body: error.toBody() };
  endRefusalSpan(span, status, error.code);
  logAccess(opts.logger, head, {
    requestId: ids.requestId,
    correlationId: ids.correlationId,
    status,
    code: error.code,
    latencyMs: Date.now() - startedMs,
  });
  return withApiHeaders(jsonResponse(status, body, error.headers), ids.requestId);
}

const serverBusy = (): GatewayError =>
  new GatewayError(503, 'The gateway is receiving too many request bodies at once; retry shortly.', {
    type: 'server_error',
    code: 'server_busy',
    headers: { 'retry-after': '1' },
  });

/** A body is coming when it has a length over zero or is chunked. */
function hasBody(req: http.IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/**
 * Reads the body within `limit` and the process-wide budget. What it buffers is taken from the
 * budget as it arrives; on success the caller gives it back, on any refusal it is given back here.
 */
function readBody(req: http.IncomingMessage, limit: number, budget: BodyBudget): Promise<Buffer | 'too-large' | 'over-budget' | 'aborted'> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    let settled = false;
    const stop = (outcome: 'too-large' | 'over-budget' | 'aborted'): void => {
      if (settled) return;
      settled = true;
      req.removeListener('data', onData);
      budget.give(size);
      parts.length = 0;
      resolve(outcome);
    };
    const onData = (chunk: Buffer): void => {
      if (size + chunk.length > limit) return stop('too-large');
      if (!budget.take(chunk.length)) return stop('over-budget');
      size += chunk.length;
      parts.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => {
      if (settled) return;
      settled = true;
      resolve(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts));
    });
    // Closed before the end: the client left or Node's requestTimeout answered 408 and closed it.
    req.once('close', () => {
      if (!req.complete) stop('aborted');
    });
    req.on('error', () => undefined);
  });
}

async function write(res: http.ServerResponse, response: ApiResponse): Promise<void> {
  if (typeof response.body === 'string') {
    const bytes = response.bodyEncoding === 'base64' ? Buffer.from(response.body, 'base64') : response.body;
    res.writeHead(response.status, { ...response.headers, 'content-length': Buffer.byteLength(bytes) });
    res.end(bytes);
    return;
  }
  res.writeHead(response.status, response.headers);
  res.flushHeaders();
  try {
    await writeChunks(res, response.body);
  } finally {
    res.end();
  }
}

/** Starts listening and returns a handle with graceful shutdown. */
export async function startServer(opts: ServerOptions & { host: string; port: number }): Promise<RunningServer> {
  const { server, inFlight, drained } = createServer(opts);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new ListenError(opts.host, opts.port, err)));
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  return {
    server,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    inFlight,
    async shutdown(drainMs: number): Promise<void> {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        drained().then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), drainMs);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) opts.logger.warn('drain timeout reached; closing remaining connections', { in_flight: inFlight() });
      server.closeAllConnections();
      await closed;
    },
  };
}

/** The server could not listen; the message names the address and the reason in one line. */
export class ListenError extends Error {
  constructor(host: string, port: number, cause: NodeJS.ErrnoException) {
    const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    const why = cause.code === 'EADDRINUSE' ? 'the address is already in use' : cause.code === 'EACCES' ? 'permission denied' : cause.message;
    super(`cannot listen on ${address}: ${why}${cause.code ? ` (${cause.code})` : ''}`);
    this.name = 'ListenError';
  }
}
