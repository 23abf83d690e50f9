// The function URL adapter: the documented request event → ApiRequest, the 413 limit, and how an
// ApiResponse is written to a response stream (back-pressure, early close).
import { Writable } from 'node:stream';
import type { ApiRequest, ApiResponse } from '../../functions/core/api-types';
import { CancelSignal } from '../../functions/core/cancel';
import { bodyTooLarge } from '../../functions/core/errors';
import {
  cancelOnEarlyClose,
  responseMetadata,
  toApiRequest,
  writeBody,
  type Converted,
  type FunctionUrlEvent,
} from '../../functions/adapters/lambda/function-url';
import { fixtureJson } from './fixture-files';

/** AWS's documented example event, unchanged (test/fixtures/lambda/SOURCES.md). */
const documented = (): FunctionUrlEvent => fixtureJson<FunctionUrlEvent>('lambda/function-url-event.json');

function request(converted: Converted): ApiRequest {
  if (converted.kind !== 'request') throw new Error(`expected a request, got a ${converted.response.status} response`);
  return converted.request;
}

function response(converted: Converted): ApiResponse {
  if (converted.kind !== 'response') throw new Error('expected a response');
  return converted.response;
}

const LIMIT = 1024;

describe('function URL event → ApiRequest', () => {
  test('the documented example event maps method, path, query, headers, cookies and body', () => {
    const signal = new CancelSignal();
    const req = request(toApiRequest(documented(), signal, LIMIT));
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/my/path');
    // Repeated parameters stay separate (queryStringParameters would have joined them).
    expect(req.query.getAll('parameter1')).toEqual(['value1', 'value2']);
    expect(req.query.get('parameter2')).toBe('value');
    expect(req.headers.header1).toBe('value1');
    expect(req.headers.header2).toBe('value1,value2'); // repeated headers arrive comma-joined
    expect(req.headers.cookie).toBe('cookie1; cookie2'); // function URLs move Cookie into `cookies`
    expect(req.body.toString('utf8')).toBe('Hello from client!');
    expect(req.signal).toBe(signal);
  });

  test("behind the CloudFront edge (IAM auth), the client's Authorization comes back from x-viewer-authorization, never CloudFront's signature", () => {
    const signed = (headers: Record<string, string>): FunctionUrlEvent => ({
      ...documented(),
      headers,
      requestContext: { http: { method: 'POST' }, authorizer: { iam: { accessKey: 'ASIA-EXAMPLE', callerId: 'AROA-EXAMPLE' } } },
    });
    const signature = 'AWS4-HMAC-SHA256 Credential=ASIA-EXAMPLE/20261203/eu-west-1/lambda/aws4_request, SignedHeaders=host, Signature=abc';
    const viaEdge = request(toApiRequest(signed({ authorization: signature, 'x-viewer-authorization': 'Bearer gw-tenant' }), new CancelSignal(), LIMIT));
    expect(viaEdge.headers.authorization).toBe('Bearer gw-tenant');
    expect(viaEdge.headers['x-viewer-authorization']).toBeUndefined();
    // A client that sent no key gets the gateway's own 401, not a check of CloudFront's signature.
    expect(request(toApiRequest(signed({ authorization: signature }), new CancelSignal(), LIMIT)).headers.authorization).toBeUndefined();
    // Without IAM auth (the public URL), the header carries no meaning: a client cannot use it to replace its own.
    for (const requestContext of [{ http: { method: 'POST' } }, signed({}).requestContext]) {
      const headers = { authorization: 'Bearer gw-a', 'x-viewer-authorization': 'Bearer gw-b' };
      const direct = request(toApiRequest({ ...documented(), headers, requestContext }, new CancelSignal(), LIMIT));
      expect(direct.headers.authorization).toBe('Bearer gw-a');
    }
  });

  test('a base64-encoded body is decoded to its bytes', () => {
    const bytes = Buffer.from([0x00, 0xff, 0x10, 0x7b, 0x22, 0xc3, 0xa9]);
    const req = request(toApiRequest({ ...documented(), body: bytes.toString('base64'), isBase64Encoded: true }, new CancelSignal(), LIMIT));
    expect(req.body.equals(bytes)).toBe(true);
  });

  test('a UTF-8 JSON body is kept byte for byte', () => {
    const json = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'héllo ✓' }] });
    const req = request(toApiRequest({ ...documented(), body: json, isBase64Encoded: false }, new CancelSignal(), LIMIT));
    expect(req.body.equals(Buffer.from(json, 'utf8'))).toBe(true);
  });

  test('query strings: encoded values, a leading "?" as in the docs table, and none at all', () => {
    const encoded = request(toApiRequest({ ...documented(), rawQueryString: 'q=a%20b%26c&x=%E2%9C%93' }, new CancelSignal(), LIMIT));
    expect(encoded.query.get('q')).toBe('a b&c');
    expect(encoded.query.get('x')).toBe('✓');
    const leading = request(toApiRequest({ ...documented(), rawQueryString: '?parameter1=value1&parameter2=value2' }, new CancelSignal(), LIMIT));
    expect(leading.query.get('parameter1')).toBe('value1');
    const none = request(toApiRequest({ ...documented(), rawQueryString: '' }, new CancelSignal(), LIMIT));
    expect([...none.query.keys()]).toEqual([]);
  });

  test('a GET without body, cookies or headers becomes an empty body and no cookie header', () => {
    const { body: _body, cookies: _cookies, headers: _headers, ...rest } = documented();
    const req = request(toApiRequest({ ...rest, rawPath: '/health', requestContext: { http: { method: 'GET' } } }, new CancelSignal(), LIMIT));
    expect(req.method).toBe('GET');
    expect(req.path).toBe('/health');
    expect(req.body.length).toBe(0);
    expect(req.headers).toEqual({});
  });

  test('header names are lower-cased and the gateway headers pass through', () => {
    const req = request(
      toApiRequest(
        {
          ...documented(),
          headers: {
            Authorization: 'Bearer gw-default-key',
            'X-Request-ID': 'corr-1',
            traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
            gone: undefined,
          },
        },
        new CancelSignal(),
        LIMIT,
      ),
    );
    expect(req.headers.authorization).toBe('Bearer gw-default-key');
    expect(req.headers['x-request-id']).toBe('corr-1');
    expect(req.headers.traceparent).toMatch(/^00-4bf92f35/);
    expect('gone' in req.headers).toBe(false);
  });

  test("a body over the limit is the core's 413, decided on the decoded size", () => {
    const over = response(toApiRequest({ ...documented(), body: 'x'.repeat(LIMIT + 1) }, new CancelSignal(), LIMIT));
    expect(over.status).toBe(413);
    expect(over.headers['content-type']).toBe('application/json');
    expect(JSON.parse(over.body as string)).toEqual(bodyTooLarge(LIMIT).toBody());
    // Multi-byte characters count as bytes, not characters.
    expect(toApiRequest({ ...documented(), body: 'é'.repeat(LIMIT / 2 + 1) }, new CancelSignal(), LIMIT).kind).toBe('response');

    // Exactly at the limit passes; base64 is measured after decoding (its text is ~4/3 longer).
    expect(toApiRequest({ ...documented(), body: 'x'.repeat(LIMIT) }, new CancelSignal(), LIMIT).kind).toBe('request');
    const atLimit = Buffer.alloc(LIMIT, 0xab).toString('base64');
    expect(atLimit.length).toBeGreaterThan(LIMIT);
    expect(toApiRequest({ ...documented(), body: atLimit, isBase64Encoded: true }, new CancelSignal(), LIMIT).kind).toBe('request');
    const overB64 = Buffer.alloc(LIMIT + 1, 0xab).toString('base64');
    expect(response(toApiRequest({ ...documented(), body: overB64, isBase64Encoded: true }, new CancelSignal(), LIMIT)).status).toBe(413);
  });
});

/** A Writable that records what it was given and can be made slow. */
class Sink extends Writable {
  readonly chunks: string[] = [];
  constructor(private readonly opts: { writeDelayMs?: number; highWaterMark?: number; onWritten?: (chunk: string) => void } = {}) {
    super({ highWaterMark: opts.highWaterMark ?? 16_384 });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (error?: Error | null) => void): void {
    const finish = (): void => {
      this.chunks.push(chunk.toString('utf8'));
      this.opts.onWritten?.(chunk.toString('utf8'));
      done();
    };
    if (this.opts.writeDelayMs) setTimeout(finish, this.opts.writeDelayMs);
    else finish();
  }
}

describe('ApiResponse → response stream', () => {
  test('responseMetadata carries status and headers unchanged', () => {
    expect(responseMetadata({ status: 429, headers: { 'retry-after': '3', 'content-type': 'application/json' }, body: '{}' })).toEqual({
      statusCode: 429,
      headers: { 'retry-after': '3', 'content-type': 'application/json' },
    });
  });

  test('a string body is written and the stream finished before writeBody resolves', async () => {
    const sink = new Sink({ writeDelayMs: 5 });
    await writeBody(sink, '{"ok":true}');
    expect(sink.chunks).toEqual(['{"ok":true}']);
    expect(sink.writableFinished).toBe(true);
  });

  test('an empty string body is still written (the runtime sends its prelude on the first write)', async () => {
    const sink = new Sink();
    const writes: unknown[] = [];
    const write = sink.write.bind(sink);
    sink.write = ((chunk: unknown) => {
      writes.push(chunk);
      return write(chunk as string);
    }) as typeof sink.write;
    await writeBody(sink, '');
    expect(writes).toEqual(['']);
    expect(sink.writableFinished).toBe(true);
  });

  test('a stream body respects back-pressure: the next chunk is pulled only after the last drained', async () => {
    const log: string[] = [];
    async function* chunks(): AsyncGenerator<string> {
      for (let i = 0; i < 4; i++) {
        log.push(`pull ${i}`);
        yield `data: ${i}\n\n`;
      }
    }
    // highWaterMark 1: every write reports a full buffer, so writeBody must wait for 'drain'.
    const sink = new Sink({ writeDelayMs: 10, highWaterMark: 1, onWritten: (c) => log.push(`written ${c.slice(6, 7)}`) });
    await writeBody(sink, chunks());
    expect(log).toEqual(['pull 0', 'written 0', 'pull 1', 'written 1', 'pull 2', 'written 2', 'pull 3', 'written 3']);
    expect(sink.writableFinished).toBe(true);
  });

  test('a stream closed early stops pulling and returns the iterator', async () => {
    let finalized = false;
    let pulled = 0;
    async function* chunks(): AsyncGenerator<string> {
      try {
        for (;;) {
          pulled += 1;
          yield `data: ${pulled}\n\n`;
        }
      } finally {
        finalized = true;
      }
    }
    // The client goes away right after the second chunk reached it.
    const sink: Sink = new Sink({
      onWritten: () => {
        if (sink.chunks.length === 2) sink.destroy();
      },
    });
    await writeBody(sink, chunks());
    expect(pulled).toBe(2);
    expect(sink.chunks).toEqual(['data: 1\n\n', 'data: 2\n\n']);
    expect(finalized).toBe(true);
  });

  test('cancelOnEarlyClose fires when the stream closes or fails before finishing, not after a clean end', async () => {
    const early = new Sink();
    const earlySignal = cancelOnEarlyClose(early);
    early.destroy();
    await new Promise((r) => setImmediate(r));
    expect(earlySignal.cancelled).toBe(true);

    const failed = new Sink();
    const failedSignal = cancelOnEarlyClose(failed);
    failed.destroy(new Error('socket hang up')); // handled by the listener, not thrown
    await new Promise((r) => setImmediate(r));
    expect(failedSignal.cancelled).toBe(true);

    const clean = new Sink();
    const cleanSignal = cancelOnEarlyClose(clean);
    await writeBody(clean, 'done');
    await new Promise((r) => setImmediate(r));
    expect(cleanSignal.cancelled).toBe(false);
  });
});
