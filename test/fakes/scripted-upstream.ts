/**
 * A programmable fake upstream for fault injection: each request is answered by the script in
 * force, which writes whatever bytes (or breaks whatever connection) the case needs, in the real
 * wire formats of OpenAI (SSE) and Ollama (NDJSON). The fixture-based fakes answer correctly;
 * this one answers wrongly on purpose: truncated streams, resets mid-body, wrong media types,
 * oversized or trickling answers.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Script = (req: IncomingMessage, res: ServerResponse, body: string) => void;

export interface ScriptedUpstream {
  /** Base URL; `suffix` appended (OpenAI: '/v1'; Ollama: ''). */
  url: string;
  /** Requests answered so far. */
  readonly calls: number;
  /** The script for the following requests (null: a plain 500, which no test should reach). */
  script(fn: Script | null): void;
  close(): Promise<void>;
}

export function startScriptedUpstream(suffix = ''): Promise<ScriptedUpstream> {
  let current: Script | null = null;
  let calls = 0;
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      calls += 1;
      if (!current) {
        res.writeHead(500).end('no script');
        return;
      }
      current(req, res, Buffer.concat(parts).toString('utf8'));
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      resolve({
        url: `http://127.0.0.1:${port}${suffix}`,
        get calls() {
          return calls;
        },
        script(fn) {
          current = fn;
        },
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            for (const s of sockets) s.destroy();
          }),
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Wire-format pieces
// ---------------------------------------------------------------------------------------------

const CREATED = 1_764_000_000;

/** One OpenAI `chat.completion.chunk` SSE event carrying `content`. */
export function openaiChunk(content: string, extra: Record<string, unknown> = {}): string {
  const delta = content === '' ? { role: 'assistant', content: '' } : { content };
  const chunk = {
    id: 'chatcmpl-fault',
    object: 'chat.completion.chunk',
    created: CREATED,
    model: 'gpt-4o-2024-08-06',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: null }],
    ...extra,
  };
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

/** A complete OpenAI `chat.completion` body whose message is `content`. */
export function openaiCompletion(content: string): string {
  return JSON.stringify({
    id: 'chatcmpl-fault',
    object: 'chat.completion',
    created: CREATED,
    model: 'gpt-4o-2024-08-06',
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
  });
}

/** One Ollama /api/chat NDJSON line (not final) carrying `content`. */
export function ollamaLine(content: string): string {
  return `${JSON.stringify({ model: 'llama3.2', created_at: '2026-01-01T00:00:00Z', message: { role: 'assistant', content }, done: false })}\n`;
}

/** Ollama's final /api/chat line (done, with its token counts), NDJSON-terminated. */
export const OLLAMA_DONE = `${JSON.stringify({
  model: 'llama3.2',
  created_at: '2026-01-01T00:00:00Z',
  message: { role: 'assistant', content: '' },
  done: true,
  done_reason: 'stop',
  prompt_eval_count: 5,
  eval_count: 2,
})}\n`;

export const SSE_HEAD = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };
export const NDJSON_HEAD = { 'content-type': 'application/x-ndjson' };

/** Writes `chunks` one after the other, then ends the response cleanly (no terminator unless given). */
export function writeAndEnd(res: ServerResponse, status: number, headers: Record<string, string>, chunks: readonly (string | Buffer)[]): void {
  res.writeHead(status, headers);
  for (const c of chunks) res.write(c);
  res.end();
}

/** Sends `total` bytes of `fill` at one byte per `everyMs` (stops when the client goes away). */
export function trickle(res: ServerResponse, headers: Record<string, string>, everyMs: number, fill = ' '): void {
  res.writeHead(200, headers);
  res.flushHeaders();
  const timer = setInterval(() => {
    if (res.destroyed) clearInterval(timer);
    else res.write(fill);
  }, everyMs);
  res.on('close', () => clearInterval(timer));
}
