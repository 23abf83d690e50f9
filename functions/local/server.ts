// node:http adapter: turns each HTTP exchange into an ApiRequest for the core, writes the
// ApiResponse back (streams flushed chunk by chunk), and drains in-flight work on shutdown.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApiRequest, ApiResponse } from '../core/api-types';
import { writeChunks } from '../adapters/stream-writer';
import { CancelSignal } from '../core/cancel';
import { jsonResponse } from '../core/api-types';
import { bodyTooLarge } from '../core/gateway';
import type { Logger } from '../core/logger';

export interface ServerOptions {
  handle: (req: ApiRequest) => Promise<ApiResponse>;
  maxBodyBytes: number;
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

export function createServer(opts: ServerOptions): { server: http.Server; inFlight: () => number; drained: () => Promise<void> } {
  let inFlight = 0;
  let waiters: Array<() => void> = [];

  const server = http.createServer((req, res) => {
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
    serve(req, res, cancel, opts).catch((err: unknown) => {
      opts.logger.error('response failed', { error: err instanceof Error ? err.message : String(err) });
      res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0; // streams may legitimately run for minutes
  return {
    server,
    inFlight: () => inFlight,
    drained: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
  };
}

async function serve(req: http.IncomingMessage, res: http.ServerResponse, cancel: CancelSignal, opts: ServerOptions): Promise<void> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > opts.maxBodyBytes) {
    res.shouldKeepAlive = false;
    await write(res, jsonResponse(413, bodyTooLarge(opts.maxBodyBytes).toBody()));
    req.resume();
    return;
  }
  const body = await readBody(req, opts.maxBodyBytes);
  if (body === 'too-large') {
    res.shouldKeepAlive = false;
    await write(res, jsonResponse(413, bodyTooLarge(opts.maxBodyBytes).toBody()));
    return;
  }
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  // Node already lower-cases names and joins repeated headers; only set-cookie stays an array.
  const headers = req.headers as Record<string, string | undefined>;
  const response = await opts.handle({
    method: req.method ?? 'GET',
    path: q === -1 ? url : url.slice(0, q),
    query: new URLSearchParams(q === -1 ? '' : url.slice(q + 1)),
    headers,
    body,
    signal: cancel,
  });
  await write(res, response);
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        resolve('too-large');
        return;
      }
      parts.push(chunk);
    });
    req.on('end', () => resolve(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts)));
    req.on('error', reject);
  });
}

async function write(res: http.ServerResponse, response: ApiResponse): Promise<void> {
  if (typeof response.body === 'string') {
    res.writeHead(response.status, { ...response.headers, 'content-length': Buffer.byteLength(response.body) });
    res.end(response.body);
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
    server.once('error', reject);
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
        new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), drainMs); }),
      ]);
      clearTimeout(timer);
      if (timedOut) opts.logger.warn('drain timeout reached; closing remaining connections', { in_flight: inFlight() });
      server.closeAllConnections();
      await closed;
    },
  };
}
