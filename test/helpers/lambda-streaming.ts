/// <reference types="aws-lambda" />
// Local emulation of the Lambda Node.js runtime's response-streaming globals behind a function URL:
// `awslambda.streamifyResponse` and `awslambda.HttpResponseStream.from`, served over a real
// node:http server on 127.0.0.1. Install the globals BEFORE importing a handler module, since the
// handler calls `awslambda.streamifyResponse` at module load.
//
// Deliberate differences from AWS: status and headers are flushed on from() (the runtime sends
// them with the first write), nothing is buffered (AWS has been seen to hold small chunks back,
// runtime-interface-client#94/#102), and a client disconnect destroys the response stream (AWS
// does not report it, #145), so the handler's cancellation can be tested.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { Context } from 'aws-lambda';
import type { FunctionUrlEvent } from '../../functions/adapters/lambda/function-url';

/** The invocation context the runtime passes; only awsRequestId matters to the handlers here. */
function invocationContext(): Context {
  const awsRequestId = randomUUID();
  return {
    awsRequestId,
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'emulated',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:emulated',
    memoryLimitInMB: '1024',
    logGroupName: '/aws/lambda/emulated',
    logStreamName: 'emulated',
    getRemainingTimeInMillis: () => 900_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** A Writable over one http.ServerResponse, standing in for the runtime's response stream. */
class ServerResponseStream extends Writable {
  constructor(readonly res: http.ServerResponse) {
    super();
    // The client went away before the response ended: fail the stream as a broken pipe would.
    res.once('close', () => {
      if (!res.writableFinished) this.destroy();
    });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (!this.res.headersSent) this.res.writeHead(200, { 'content-type': 'application/octet-stream' });
    if (this.res.write(chunk)) callback();
    else this.res.once('drain', () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.res.end(() => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.res.writableFinished) this.res.destroy();
    callback(error);
  }
}

/** The handler shape `awslambda.streamifyResponse` takes (as @types/aws-lambda declares it). */
export type StreamingHandler<TEvent> = (event: TEvent, responseStream: awslambda.HttpResponseStream, context: Context) => void | Promise<void>;

const lambdaGlobals = {
  streamifyResponse: <TEvent>(handler: StreamingHandler<TEvent>): StreamingHandler<TEvent> => handler,
  HttpResponseStream: {
    from(stream: Writable, metadata: Record<string, unknown>): Writable {
      if (!(stream instanceof ServerResponseStream)) throw new Error('HttpResponseStream.from: not a stream created by the emulator');
      stream.res.writeHead(metadata.statusCode as number, metadata.headers as http.OutgoingHttpHeaders);
      stream.res.flushHeaders();
      return stream;
    },
  },
};

/** Defines `globalThis.awslambda` (idempotent). */
export function installLambdaStreamingGlobals(): void {
  Object.defineProperty(globalThis, 'awslambda', { value: lambdaGlobals, configurable: true, writable: true });
}

export function uninstallLambdaStreamingGlobals(): void {
  Reflect.deleteProperty(globalThis, 'awslambda');
}

export interface EmulatedFunctionUrl {
  /** e.g. http://127.0.0.1:PORT (no trailing slash) */
  url: string;
  /** Every event the handler received, in order. */
  events: FunctionUrlEvent[];
  close(): Promise<void>;
}

const TEXT_TYPES = /^(text\/|application\/(json|x-www-form-urlencoded|xml|javascript))/i;

/** The payload-format-2.0 event a function URL would build for this request. */
function toEvent(req: http.IncomingMessage, body: Buffer): FunctionUrlEvent {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && name !== 'cookie') headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const binary = body.length > 0 && !TEXT_TYPES.test(req.headers['content-type'] ?? '');
  const now = Date.now();
  const event = {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: q === -1 ? '' : url.slice(q + 1),
    ...(req.headers.cookie ? { cookies: req.headers.cookie.split(/;\s*/) } : {}),
    headers,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'emulated',
      domainName: req.headers.host ?? '127.0.0.1',
      domainPrefix: 'emulated',
      http: {
        method: req.method ?? 'GET',
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '',
        userAgent: req.headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    ...(body.length > 0 ? { body: body.toString(binary ? 'base64' : 'utf8') } : {}),
    isBase64Encoded: binary,
  };
  return event;
}

/** Serves a streaming handler the way a RESPONSE_STREAM function URL invokes it. */
export async function serveFunctionUrl(handler: StreamingHandler<FunctionUrlEvent>): Promise<EmulatedFunctionUrl> {
  const events: FunctionUrlEvent[] = [];
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (chunk: Buffer) => parts.push(chunk));
    req.on('end', () => {
      const event = toEvent(req, Buffer.concat(parts));
      events.push(event);
      const stream = new ServerResponseStream(res);
      // Like the runtime: the invocation fails if the handler settles before its stream finished.
      // The emulator's stream is a plain Writable, like the runtime's (which is not its declared class either).
      Promise.resolve(handler(event, stream as unknown as awslambda.HttpResponseStream, invocationContext())).then(
        () => {
          if (!stream.writableFinished) stream.destroy();
        },
        () => stream.destroy(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    events,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
