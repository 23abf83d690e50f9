// The head of every provider call as the upstream reads it off a real socket: the caller's headers
// as given, and the ones the gateway owns (Host, Content-Length, the trace context) exactly once,
// whatever the caller passed under those names.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readText, sendUpstream } from '../../functions/core/providers/upstream-http';

let server: Server;
let url: string;
let heads: IncomingMessage['rawHeaders'][] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    heads.push(req.rawHeaders);
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  heads = [];
});

/** The head's names (lower-cased) and values, in the order they arrived. */
const pairsOf = (raw: string[]): Array<[string, string]> => {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < raw.length; i += 2) pairs.push([(raw[i] as string).toLowerCase(), raw[i + 1] as string]);
  return pairs;
};
const valuesOf = (raw: string[], name: string): string[] =>
  pairsOf(raw)
    .filter(([n]) => n === name)
    .map(([, v]) => v);

test("a POST carries the caller's headers as given, the URL's host, the body's length and the trace context, each once", async () => {
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const res = await sendUpstream({
    provider: 'openai',
    url,
    method: 'POST',
    headers: {
      Authorization: 'Bearer sk-test',
      'content-type': 'application/json',
      // Names the gateway owns: a caller's values must not reach the upstream.
      'Content-Length': '999',
      Host: 'elsewhere.example',
      traceparent: '00-ffffffffffffffffffffffffffffffff-ffffffffffffffff-01',
    },
    body: '{"a":"é"}',
    timeoutMs: 5000,
    traceparent,
    tracestate: 'vendor=1',
  });
  expect(await readText(res)).toBe('{"ok":true}');
  const [raw] = heads;
  if (!raw) throw new Error('the upstream saw no request');
  expect(valuesOf(raw, 'host')).toEqual([new URL(url).host]);
  expect(valuesOf(raw, 'content-length')).toEqual([String(Buffer.byteLength('{"a":"é"}'))]);
  expect(valuesOf(raw, 'traceparent')).toEqual([traceparent]);
  expect(valuesOf(raw, 'tracestate')).toEqual(['vendor=1']);
  expect(raw).toContain('Authorization'); // the caller's spelling is kept
  expect(valuesOf(raw, 'authorization')).toEqual(['Bearer sk-test']);
  expect(valuesOf(raw, 'content-type')).toEqual(['application/json']);
  expect(valuesOf(raw, 'connection')).toEqual(['keep-alive']);
});

test('a GET without a body or a trace sends neither a length nor a trace context', async () => {
  const res = await sendUpstream({ provider: 'openai', url, method: 'GET', headers: { authorization: 'Bearer sk-test' }, timeoutMs: 5000 });
  await readText(res);
  const [raw] = heads;
  if (!raw) throw new Error('the upstream saw no request');
  expect(
    pairsOf(raw)
      .map(([name]) => name)
      .sort(),
  ).toEqual(['authorization', 'connection', 'host']);
});

test('a header value that could split the head is refused before anything is sent', async () => {
  await expect(
    sendUpstream({ provider: 'openai', url, method: 'POST', headers: { 'x-note': 'a\r\nx-injected: 1' }, body: '{}', timeoutMs: 5000 }),
  ).rejects.toThrow(/invalid character/i);
  expect(heads).toHaveLength(0);
});
