/**
 * Fixture access for the fake upstreams, plus the small HTTP plumbing both fakes share
 * (request recording, Behaviour switching, delays/hangs, abort counting, chunked streaming).
 *
 * Fixtures are read synchronously when a fake module is loaded; nothing here touches the disk
 * per request.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';

// ---------------------------------------------------------------------------------------------
// Fixture files
// ---------------------------------------------------------------------------------------------

export const FIXTURES_DIR = join(__dirname, '..', 'fixtures');

export function fixturePath(relative: string): string {
  return join(FIXTURES_DIR, relative);
}

/** A fixture file as UTF-8 text, e.g. `readFixture('openai/chat-stream.sse.txt')`. */
export function readFixture(relative: string): string {
  return readFileSync(fixturePath(relative), 'utf8');
}

export function readFixtureJson<T = unknown>(relative: string): T {
  return JSON.parse(readFixture(relative)) as T;
}

/** Splits raw SSE text into events, each keeping its `\n\n` terminator. */
export function splitSse(raw: string): string[] {
  return raw
    .split('\n\n')
    .filter((e) => e.trim() !== '')
    .map((e) => `${e}\n\n`);
}

/** Splits NDJSON text into parsed objects (blank lines skipped). */
export function parseNdjson<T = unknown>(raw: string): T[] {
  return raw
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

/** Splits text into word-ish pieces the way a tokenizer stream looks ("The", " tool", " said:"). */
export function textPieces(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? [text];
}

// ---------------------------------------------------------------------------------------------
// Public fake-upstream types (re-exported by openai-upstream.ts and ollama-upstream.ts)
// ---------------------------------------------------------------------------------------------

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** the body's bytes as they arrived (for byte-identical checks) */
  raw: Buffer;
  /** parsed body or undefined */
  json: unknown;
}

export interface Behaviour {
  /** reply with this HTTP status and `body` (or a provider-shaped error body for that status) instead of the normal answer */
  status?: number;
  body?: string;
  /** wait before sending the response head */
  delayMs?: number;
  /** never answer (until the client aborts) */
  hang?: boolean;
  /** streaming: pause between chunks */
  chunkDelayMs?: number;
  /** streaming: after N chunks, destroy the socket (OpenAI) / write the provider's mid-stream error line (Ollama) */
  failAfterChunks?: number;
  /** streaming: emit exactly N content chunks (text "tok0 ", "tok1 ", ...) instead of the fixture's chunks */
  streamChunks?: number;
  /** apply this behaviour to the next N requests only, then revert to normal (undefined = until cleared) */
  times?: number;
}

export interface FakeUpstream {
  /** OpenAI: 'http://127.0.0.1:PORT/v1' (base URL incl /v1); Ollama: 'http://127.0.0.1:PORT' */
  url: string;
  port: number;
  /** every request received, in order (the oldest are dropped beyond MAX_RECORDED_REQUESTS) */
  requests: RecordedRequest[];
  setBehaviour(b: Behaviour | null): void;
  /** count of requests whose client closed the connection before the fake finished answering */
  readonly aborted: number;
  /** closes server and destroys open sockets */
  close(): Promise<void>;
}

export const MAX_RECORDED_REQUESTS = 1000;

// ---------------------------------------------------------------------------------------------
// Shared server plumbing
// ---------------------------------------------------------------------------------------------

/** One request as seen by a provider handler (body already read; delay/hang already applied). */
export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly recorded: RecordedRequest;
  /** request path without the query string */
  readonly pathname: string;
  /** the behaviour in force for this request (null = normal) */
  readonly behaviour: Behaviour | null;
  /** true when a body was sent but is not valid JSON */
  readonly invalidJson: boolean;
  /** runs `fn` after `ms` unless the response closes first */
  later(fn: () => void, ms: number): void;
  /** drops the connection on purpose (not counted as a client abort) */
  destroyConnection(): void;
}

export type Handler = (ex: Exchange) => void;

/** Sends a complete response with an explicit Content-Length. */
export function sendBody(res: ServerResponse, status: number, contentType: string, body: string | Buffer, extraHeaders?: Record<string, string>): void {
  if (res.destroyed || res.headersSent) return;
  res.statusCode = status;
  res.setHeader('content-type', contentType);
  res.setHeader('content-length', typeof body === 'string' ? Buffer.byteLength(body) : body.length);
  if (extraHeaders) for (const k in extraHeaders) res.setHeader(k, extraHeaders[k]!);
  res.end(body);
}

/**
 * Writes `chunks` as a chunked 200-style streaming body, one `res.write` per chunk, honouring
 * `chunkDelayMs`. With `fail`, only the first `fail.after` chunks are written and then
 * `fail.finish()` runs (once the last chunk has been handed to the socket).
 */
export function writeStream(
  ex: Exchange,
  status: number,
  headers: Record<string, string>,
  chunks: readonly (string | Buffer)[],
  fail?: { after: number; finish: () => void },
): void {
  const { res } = ex;
  if (res.destroyed) return;
  res.writeHead(status, headers);
  const limit = fail ? Math.max(0, Math.min(Math.floor(fail.after), chunks.length)) : chunks.length;
  const finishFail = (): void => {
    if (!res.destroyed && fail) fail.finish();
  };
  if (limit === 0) {
    if (fail) {
      res.flushHeaders();
      ex.later(finishFail, 0);
    } else {
      res.end();
    }
    return;
  }
  const emitLast = (chunk: string | Buffer): void => {
    if (fail) {
      res.write(chunk, finishFail);
    } else {
      res.write(chunk);
      res.end();
    }
  };
  const delay = ex.behaviour?.chunkDelayMs ?? 0;
  if (delay <= 0) {
    for (let i = 0; i < limit - 1; i++) res.write(chunks[i]!);
    emitLast(chunks[limit - 1]!);
    return;
  }
  let i = 0;
  const step = (): void => {
    if (res.destroyed) return;
    const chunk = chunks[i++]!;
    if (i < limit) {
      res.write(chunk);
      ex.later(step, delay);
    } else {
      emitLast(chunk);
    }
  };
  step();
}

/** Tiny bounded memo for per-model / per-tool-name response bytes. */
export function memo<V>(cache: Map<string, V>, key: string, build: () => V): V {
  let v = cache.get(key);
  if (v === undefined) {
    if (cache.size >= 256) cache.clear();
    v = build();
    cache.set(key, v);
  }
  return v;
}

/**
 * Starts a node:http server on 127.0.0.1:0 that records requests, applies the generic parts of
 * the current Behaviour (times, hang, delayMs), counts client aborts and hands the rest to
 * `handler`.
 */
export function startFakeServer(handler: Handler, urlSuffix: string): Promise<FakeUpstream> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let behaviour: Behaviour | null = null;
  let remaining: number | undefined;
  let aborted = 0;
  let closing = false;

  const takeBehaviour = (): Behaviour | null => {
    const b = behaviour;
    if (b && remaining !== undefined) {
      remaining -= 1;
      if (remaining <= 0) {
        behaviour = null;
        remaining = undefined;
      }
    }
    return b;
  };

  const server = createServer((req, res) => {
    let timers: NodeJS.Timeout[] | undefined;
    let selfDestroyed = false;
    res.on('close', () => {
      if (timers) for (const t of timers) clearTimeout(t);
      if (!res.writableEnded && !selfDestroyed && !closing) aborted += 1;
    });

    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const raw = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      const body = raw.toString('utf8');
      let json: unknown;
      let invalidJson = false;
      if (body.length > 0) {
        try {
          json = JSON.parse(body);
        } catch {
          invalidJson = true;
        }
      }
      const url = req.url ?? '/';
      const recorded: RecordedRequest = { method: req.method ?? 'GET', path: url, headers: req.headers, body, raw, json };
      requests.push(recorded);
      if (requests.length > MAX_RECORDED_REQUESTS) requests.splice(0, requests.length - MAX_RECORDED_REQUESTS);

      const b = takeBehaviour();
      if (res.destroyed) return;
      const q = url.indexOf('?');
      const ex: Exchange = {
        req,
        res,
        recorded,
        pathname: q === -1 ? url : url.slice(0, q),
        behaviour: b,
        invalidJson,
        later(fn, ms) {
          if (res.destroyed) return;
          (timers ??= []).push(setTimeout(fn, ms));
        },
        destroyConnection() {
          selfDestroyed = true;
          res.destroy();
          req.socket.destroy();
        },
      };
      if (b?.hang) return;
      const run = (): void => {
        if (res.destroyed) return;
        try {
          handler(ex);
        } catch (err) {
          if (!res.headersSent) sendBody(res, 500, 'text/plain; charset=utf-8', `fake upstream handler crashed: ${String(err)}`);
          else res.destroy();
        }
      };
      if (b?.delayMs !== undefined && b.delayMs > 0) ex.later(run, b.delayMs);
      else run();
    });
  });

  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  let closed: Promise<void> | undefined;

  return new Promise<FakeUpstream>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      const port = (server.address() as AddressInfo).port;
      const upstream: FakeUpstream = {
        url: `http://127.0.0.1:${port}${urlSuffix}`,
        port,
        requests,
        setBehaviour(b) {
          if (!b || (b.times !== undefined && b.times <= 0)) {
            behaviour = null;
            remaining = undefined;
            return;
          }
          behaviour = { ...b };
          remaining = b.times;
        },
        get aborted() {
          return aborted;
        },
        close() {
          closed ??= new Promise<void>((done) => {
            closing = true;
            server.close(() => done());
            server.closeAllConnections();
            for (const s of sockets) s.destroy();
          });
          return closed;
        },
      };
      resolve(upstream);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Request inspection helpers (bodies are untrusted JSON)
// ---------------------------------------------------------------------------------------------

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function lastMessage(body: Record<string, unknown>): Record<string, unknown> | undefined {
  const msgs = body.messages;
  if (!Array.isArray(msgs) || msgs.length === 0) return undefined;
  const last: unknown = msgs[msgs.length - 1];
  return isRecord(last) ? last : undefined;
}

/** Text of a message's content: a string, or the `text` parts of a content-part array. */
export function messageText(msg: Record<string, unknown>): string {
  const c = msg.content;
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) {
    return c.map((p: unknown) => (isRecord(p) && typeof p.text === 'string' ? p.text : '')).join('');
  }
  return c === undefined || c === null ? '' : JSON.stringify(c);
}

/** The name of the request's first function tool, if `tools` is a non-empty array. */
export function firstToolName(body: Record<string, unknown>): string | undefined {
  const tools = body.tools;
  if (!Array.isArray(tools) || tools.length === 0) return undefined;
  const t: unknown = tools[0];
  if (isRecord(t) && isRecord(t.function) && typeof t.function.name === 'string') return t.function.name;
  return undefined;
}
