// The fake Bedrock Runtime's wire format: event-stream framing against the verified vectors in
// fixtures/bedrock/eventstream-framing.json, and its ConverseStream bytes decoded frame by frame.
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { SignatureV4 } from '@smithy/signature-v4';
import { eventFrame, exceptionFrame, FAKE_AWS, NodeSha256, startBedrockUpstream, type BedrockUpstream } from '../fakes/bedrock-upstream';
import { fixtureJson } from './fixture-files';

const codec = new EventStreamCodec(
  (b) => Buffer.from(b).toString('utf8'),
  (s) => new Uint8Array(Buffer.from(s, 'utf8')),
);

interface Vector {
  headers: Array<[string, string]>;
  payload_utf8: string;
  bytes: number[];
}

/** Splits an event-stream body into decoded frames (each frame starts with its total length). */
function frames(body: Buffer): Array<{ headers: Record<string, string>; payload: unknown }> {
  const out: Array<{ headers: Record<string, string>; payload: unknown }> = [];
  for (let at = 0; at < body.length; ) {
    const length = body.readUInt32BE(at);
    const message = codec.decode(new Uint8Array(body.subarray(at, at + length)));
    const headers = Object.fromEntries(Object.entries(message.headers).map(([k, v]) => [k, String(v.value)]));
    out.push({ headers, payload: JSON.parse(Buffer.from(message.body).toString('utf8')) });
    at += length;
  }
  return out;
}

describe('fake Bedrock Runtime wire format', () => {
  let upstream: BedrockUpstream;
  beforeAll(async () => {
    upstream = await startBedrockUpstream();
  });
  afterAll(() => upstream.close());

  it('frames messages exactly as the verified event-stream vectors', () => {
    const vectors = fixtureJson<{ test_vectors: Vector[] }>('bedrock/eventstream-framing.json').test_vectors;
    for (const v of vectors) {
      const headers = Object.fromEntries(v.headers.map(([k, value]) => [k, { type: 'string' as const, value }]));
      const bytes = codec.encode({ headers, body: new Uint8Array(Buffer.from(v.payload_utf8)) });
      expect(Array.from(bytes)).toEqual(v.bytes);
    }
  });

  it('labels event and exception frames with the ConverseStream headers', () => {
    const [event] = frames(eventFrame('messageStart', { role: 'assistant' }));
    expect(event).toEqual({
      headers: { ':message-type': 'event', ':event-type': 'messageStart', ':content-type': 'application/json' },
      payload: { role: 'assistant' },
    });
    const [exception] = frames(exceptionFrame('throttlingException', { message: 'Too many requests' }));
    expect(exception?.headers).toEqual({ ':message-type': 'exception', ':exception-type': 'throttlingException', ':content-type': 'application/json' });
  });

  it('answers a signed ConverseStream with the fixture events, one frame each', async () => {
    const path = `/model/${encodeURIComponent('anthropic.claude-3-haiku-20240307-v1:0')}/converse-stream`;
    const body = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] });
    const signer = new SignatureV4({
      credentials: { accessKeyId: FAKE_AWS.accessKeyId, secretAccessKey: FAKE_AWS.secretAccessKey },
      region: FAKE_AWS.region,
      service: 'bedrock',
      sha256: NodeSha256,
    });
    const host = `127.0.0.1:${upstream.port}`;
    const signed = await signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: upstream.port,
      path,
      query: {},
      headers: { host, 'content-type': 'application/json' },
      body,
    });
    const res = await fetch(`${upstream.url}${path}`, { method: 'POST', headers: signed.headers, body });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.amazon.eventstream');
    const got = frames(Buffer.from(await res.arrayBuffer()));
    const expected = fixtureJson<{ example_text_stream: Array<{ ':event-type': string; payload: unknown }> }>(
      'bedrock/converse-stream.events.json',
    ).example_text_stream;
    expect(got.map((f) => [f.headers[':event-type'], f.payload])).toEqual(expected.map((e) => [e[':event-type'], e.payload]));
    expect(upstream.signatureChecks.at(-1)).toEqual({ path, ok: true });
  });
});
