// A small emulator of the documented Lambda Runtime API (2018-06-01) on 127.0.0.1, for running a
// bundle under AWS's real runtime interface client (aws-lambda-ric):
//   GET  /runtime/invocation/next              held until an invocation is queued; the event as
//                                              body, Lambda-Runtime-Aws-Request-Id, -Deadline-Ms,
//                                              -Invoked-Function-Arn, -Trace-Id headers
//   POST /runtime/invocation/{id}/response     buffered (JSON), or streamed: Lambda-Runtime-
//                                              Function-Response-Mode: streaming, chunked body,
//                                              error trailers Lambda-Runtime-Function-Error-Type/-Body
//   POST /runtime/invocation/{id}/error        Lambda-Runtime-Function-Error-Type + JSON body
//   POST /runtime/init/error                   the same, for a failed init
// and, in front of it, a function URL (RESPONSE_STREAM) for HTTP clients: each request becomes a
// function URL event, and a streamed response's prelude (status, headers; JSON, then 8 NUL
// bytes) becomes the HTTP status and headers, its body passed on chunk by chunk as it arrives.
// A streamed response that ends with the error trailers is cut off (the connection destroyed),
// as the client of a function URL sees a failed stream.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { functionUrlEvent } from './lambda-events';

const PREFIX = '/2018-06-01/runtime';
const PRELUDE_DELIMITER = Buffer.alloc(8);

export interface FunctionError {
  errorType: string;
  errorMessage?: string;
  stackTrace?: string[];
}

export type RuntimeOutcome =
  | { kind: 'response'; payload: unknown }
  | { kind: 'streamed'; bytes: number; error?: FunctionError }
  | { kind: 'error'; error: FunctionError };

interface Pending {
  requestId: string;
  event: unknown;
  /** Streamed responses go here as they arrive (function URL invocations). */
  sink?: http.ServerResponse;
  settle: (outcome: RuntimeOutcome) => void;
}

export interface RuntimeApi {
  /** For AWS_LAMBDA_RUNTIME_API. */
  address: string;
  /** The function URL in front (http://127.0.0.1:PORT, no trailing slash). */
  functionUrl: string;
  /** Queues one invocation; resolves with what the runtime answered. */
  invoke(event: unknown): Promise<RuntimeOutcome>;
  /** Resolves with the init error the runtime reported, if it reports one. */
  readonly initError: Promise<FunctionError>;
  /** How many times the runtime has asked for the next invocation (the first ask ends its init). */
  readonly nextCalls: number;
  /** Every invocation's outcome so far, in the order they ended (function URL requests included). */
  readonly outcomes: RuntimeOutcome[];
  close(): Promise<void>;
}

export interface RuntimeApiOptions {
  /** Called when the runtime asks for its next invocation, i.e. the previous one has ended: Lambda may freeze it now. */
  onNext?: (nth: number) => void;
  /** Remaining time given to each invocation. */
  timeoutMs?: number;
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

function parseError(text: string, typeHeader: string | string[] | undefined): FunctionError {
  let body: Partial<FunctionError> = {};
  try {
    body = JSON.parse(text) as Partial<FunctionError>;
  } catch {
    // the type header still says what failed
  }
  return { ...body, errorType: String(typeHeader ?? body.errorType ?? 'Unknown') };
}

export async function startRuntimeApi(opts: RuntimeApiOptions = {}): Promise<RuntimeApi> {
  const queue: Pending[] = [];
  const waiting: http.ServerResponse[] = [];
  const inFlight = new Map<string, Pending>();
  const outcomes: RuntimeOutcome[] = [];
  let nextCalls = 0;
  let reportInitError: (e: FunctionError) => void = () => undefined;
  const initError = new Promise<FunctionError>((resolve) => {
    reportInitError = resolve;
  });

  const deliver = (): void => {
    while (queue.length > 0 && waiting.length > 0) {
      const next = queue.shift() as Pending;
      const res = waiting.shift() as http.ServerResponse;
      inFlight.set(next.requestId, next);
      res.writeHead(200, {
        'content-type': 'application/json',
        'lambda-runtime-aws-request-id': next.requestId,
        'lambda-runtime-deadline-ms': String(Date.now() + (opts.timeoutMs ?? 60_000)),
        'lambda-runtime-invoked-function-arn': 'arn:aws:lambda:us-east-1:123456789012:function:under-test',
        'lambda-runtime-trace-id': `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomUUID().replace(/-/g, '').slice(0, 24)};Parent=53995c3f42cd8ad8;Sampled=1`,
      });
      res.end(JSON.stringify(next.event));
    }
  };

  const accepted = (res: http.ServerResponse): void => {
    res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"OK"}');
  };

  /** A streamed response: the prelude, when it is one, becomes the function URL's status and headers. */
  const stream = (req: http.IncomingMessage, res: http.ServerResponse, pending: Pending): void => {
    const sink = pending.sink;
    const isHttpIntegration = String(req.headers['content-type']).startsWith('application/vnd.awslambda.http-integration-response');
    let head: Buffer | undefined = isHttpIntegration ? Buffer.alloc(0) : undefined;
    let bytes = 0;
    if (sink && !isHttpIntegration) sink.writeHead(200, { 'content-type': String(req.headers['content-type'] ?? 'application/octet-stream') });
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (head !== undefined) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf(PRELUDE_DELIMITER);
        if (end === -1) return;
        const prelude = JSON.parse(head.subarray(0, end).toString('utf8')) as { statusCode?: number; headers?: Record<string, string> };
        const rest = head.subarray(end + PRELUDE_DELIMITER.length);
        head = undefined;
        sink?.writeHead(prelude.statusCode ?? 200, prelude.headers ?? {});
        sink?.flushHeaders();
        if (rest.length > 0) sink?.write(rest);
        return;
      }
      sink?.write(chunk);
    });
    req.on('end', () => {
      const type = req.trailers['lambda-runtime-function-error-type'];
      const error = type
        ? parseError(Buffer.from(String(req.trailers['lambda-runtime-function-error-body'] ?? ''), 'base64').toString('utf8'), type)
        : undefined;
      if (error) sink?.destroy();
      else sink?.end();
      accepted(res);
      pending.settle({ kind: 'streamed', bytes, ...(error ? { error } : {}) });
    });
  };

  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    if (req.method === 'GET' && url === `${PREFIX}/invocation/next`) {
      nextCalls += 1;
      opts.onNext?.(nextCalls);
      waiting.push(res);
      deliver();
      return;
    }
    if (req.method === 'POST' && url === `${PREFIX}/init/error`) {
      void readBody(req).then((body) => {
        reportInitError(parseError(body.toString('utf8'), req.headers['lambda-runtime-function-error-type']));
        accepted(res);
      });
      return;
    }
    const m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
    const pending = m ? inFlight.get(decodeURIComponent(m[1] as string)) : undefined;
    if (req.method !== 'POST' || !m || !pending) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"errorType":"InvalidRequestID"}');
      return;
    }
    inFlight.delete(pending.requestId);
    const settle = pending.settle;
    pending.settle = (outcome) => {
      outcomes.push(outcome);
      settle(outcome);
    };
    if (m[2] === 'response' && req.headers['lambda-runtime-function-response-mode'] === 'streaming') {
      stream(req, res, pending);
      return;
    }
    void readBody(req).then((body) => {
      const text = body.toString('utf8');
      accepted(res);
      if (m[2] === 'error') {
        pending.sink?.writeHead(502, { 'content-type': 'application/json' }).end('{"Message":"Internal Server Error"}');
        pending.settle({ kind: 'error', error: parseError(text, req.headers['lambda-runtime-function-error-type']) });
      } else {
        pending.sink?.writeHead(200, { 'content-type': 'application/json' }).end(text);
        pending.settle({ kind: 'response', payload: text === '' ? undefined : JSON.parse(text) });
      }
    });
  });
  // The runtime holds /next open until an invocation comes, however long that is.
  server.requestTimeout = 0;
  server.headersTimeout = 0;

  const front = http.createServer((req, res) => {
    void readBody(req).then((body) => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[name] = value;
      const event = functionUrlEvent({ method: req.method ?? 'GET', path: req.url ?? '/', headers, body: body.length > 0 ? body.toString('utf8') : undefined });
      queue.push({ requestId: randomUUID(), event, sink: res, settle: () => undefined });
      deliver();
    });
  });

  const listen = (s: http.Server): Promise<number> => new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
  const [apiPort, frontPort] = await Promise.all([listen(server), listen(front)]);
  const close = (s: http.Server): Promise<void> =>
    new Promise((resolve) => {
      s.closeAllConnections();
      s.close(() => resolve());
    });

  return {
    address: `127.0.0.1:${apiPort}`,
    functionUrl: `http://127.0.0.1:${frontPort}`,
    invoke: (event) =>
      new Promise<RuntimeOutcome>((settle) => {
        queue.push({ requestId: randomUUID(), event, settle });
        deliver();
      }),
    initError,
    outcomes,
    get nextCalls() {
      return nextCalls;
    },
    close: async () => {
      for (const res of waiting.splice(0)) res.destroy();
      await Promise.all([close(server), close(front)]);
    },
  };
}
