// Broken upstreams (issue 11, items 7-10) for Anthropic and Bedrock, over real sockets: a
// scripted fake Anthropic speaks the Messages API (SSE events message_start … message_stop) and a
// scripted fake Bedrock Runtime speaks Converse / ConverseStream (the binary AWS event stream),
// reached by the gateway's real BedrockRuntimeClient through AWS_ENDPOINT_URL_BEDROCK_RUNTIME.
// The client is the official `openai` SDK (or fetch, where the raw SSE bytes matter); a healthy
// scripted Ollama is the fallback target of the routes.
import { EventStreamCodec, type MessageHeaders } from '@smithy/eventstream-codec';
import type { ServerResponse } from 'node:http';
import OpenAI from 'openai';
import { fakeAwsEnv } from '../fakes/bedrock-upstream';
import { DEFAULT_KEY, startGateway, type TestGateway } from '../helpers/gateway';
import {
  NDJSON_HEAD,
  OLLAMA_DONE,
  ollamaLine,
  SSE_HEAD,
  startScriptedUpstream,
  trickle,
  writeAndEnd,
  type Script,
  type ScriptedUpstream,
} from '../fakes/scripted-upstream';

interface Attempt {
  provider: string;
  status: number;
  error?: string;
}
interface Meta {
  x_gateway: { provider: string; attempts: Attempt[] };
}

const MESSAGES = [{ role: 'user' as const, content: 'hi' }];
const MAX_RESPONSE_BYTES = 65536;
const BIG = 'a'.repeat(100 * 1024);

// ---- Ollama, the healthy fallback ----------------------------------------------------------

const ollamaAnswers: Script = (_req, res, body) => {
  if ((JSON.parse(body) as { stream?: boolean }).stream !== false) writeAndEnd(res, 200, NDJSON_HEAD, [ollamaLine('fine'), OLLAMA_DONE]);
  else writeAndEnd(res, 200, { 'content-type': 'application/json' }, [OLLAMA_DONE.replace('"content":""', '"content":"fine"')]);
};

// ---- Anthropic wire format -------------------------------------------------------------------

const CLAUDE = 'claude-haiku-4-5';
const aEvent = (type: string, data: Record<string, unknown>): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
const A_START = aEvent('message_start', {
  message: {
    id: 'msg_fault',
    type: 'message',
    role: 'assistant',
    model: CLAUDE,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 5, output_tokens: 1 },
  },
});
const A_BLOCK = aEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
const aDelta = (text: string): string => aEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text } });
const A_END = [
  aEvent('content_block_stop', { index: 0 }),
  aEvent('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 2 } }),
  aEvent('message_stop', {}),
];
const anthropicMessage = (text: string): string =>
  JSON.stringify({
    id: 'msg_fault',
    type: 'message',
    role: 'assistant',
    model: CLAUDE,
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 5, output_tokens: 2 },
  });
const anthropicAnswers: Script = (_req, res, body) => {
  if ((JSON.parse(body) as { stream?: boolean }).stream) writeAndEnd(res, 200, SSE_HEAD, [A_START, A_BLOCK, aDelta('ok'), ...A_END]);
  else writeAndEnd(res, 200, { 'content-type': 'application/json' }, [anthropicMessage('ok')]);
};

// ---- Bedrock wire format (restJson1 Converse, binary event stream) ----------------------------

const TITAN = 'anthropic.claude-3-haiku-20240307-v1:0';
const EVENTSTREAM_HEAD = { 'content-type': 'application/vnd.amazon.eventstream' };
const codec = new EventStreamCodec(
  (b) => Buffer.from(b).toString('utf8'),
  (t) => new Uint8Array(Buffer.from(t, 'utf8')),
);
/** One event-stream frame; `payload` a string is sent as it is (so it can be broken JSON). */
const bFrame = (eventType: string, payload: unknown): Buffer => {
  const headers: MessageHeaders = {
    ':message-type': { type: 'string', value: 'event' },
    ':event-type': { type: 'string', value: eventType },
    ':content-type': { type: 'string', value: 'application/json' },
  };
  return Buffer.from(codec.encode({ headers, body: new Uint8Array(Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload), 'utf8')) }));
};
const B_START = bFrame('messageStart', { role: 'assistant' });
const bDelta = (text: string): Buffer => bFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text } });
const B_END = [
  bFrame('contentBlockStop', { contentBlockIndex: 0 }),
  bFrame('messageStop', { stopReason: 'end_turn' }),
  bFrame('metadata', { usage: { inputTokens: 5, outputTokens: 2, totalTokens: 7 }, metrics: { latencyMs: 10 } }),
];
const converseAnswer = (text: string): string =>
  JSON.stringify({
    output: { message: { role: 'assistant', content: [{ text }] } },
    stopReason: 'end_turn',
    usage: { inputTokens: 5, outputTokens: 2, totalTokens: 7 },
    metrics: { latencyMs: 10 },
  });
const isStreamPath = (url: string | undefined): boolean => (url ?? '').endsWith('/converse-stream');
const bedrockAnswers: Script = (req, res) => {
  if (isStreamPath(req.url)) writeAndEnd(res, 200, EVENTSTREAM_HEAD, [B_START, bDelta('ok'), ...B_END]);
  else writeAndEnd(res, 200, { 'content-type': 'application/json' }, [converseAnswer('ok')]);
};

// ---- faults, per provider --------------------------------------------------------------------

/** Headers, then the first bytes of a body announced longer, then a TCP reset. */
const resetMidBody =
  (first: string): Script =>
  (_q, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '5000' });
    res.write(first.slice(0, 40), () => res.socket?.resetAndDestroy());
  };

type Name = 'anthropic' | 'bedrock';
interface Faults {
  model: string;
  route: string;
  truncated: Script;
  malformedFirst: Script;
  bigSync: Script;
  bigFirstEvent: Script;
  bigLaterEvent: Script;
  resetSync: Script;
  trickle: (stream: boolean) => Script;
}

const FAULTS: Record<Name, Faults> = {
  anthropic: {
    model: CLAUDE,
    route: 'anthropic-then-ollama',
    truncated: (_q, res) => writeAndEnd(res, 200, SSE_HEAD, [A_START, A_BLOCK, aDelta('Hello'), aDelta(' wor')]),
    malformedFirst: (_q, res) =>
      writeAndEnd(res, 200, SSE_HEAD, ['event: message_start\ndata: {"type": "message_start", not json\n\n', A_BLOCK, aDelta('x'), ...A_END]),
    bigSync: (_q, res) => writeAndEnd(res, 200, { 'content-type': 'application/json' }, [anthropicMessage(BIG)]),
    bigFirstEvent: (_q, res) =>
      writeAndEnd(res, 200, SSE_HEAD, [
        aEvent('message_start', {
          message: {
            id: 'msg_fault',
            type: 'message',
            role: 'assistant',
            model: CLAUDE,
            content: [],
            stop_reason: null,
            usage: { input_tokens: 5, output_tokens: 1 },
            pad: BIG,
          },
        }),
        A_BLOCK,
        aDelta('x'),
        ...A_END,
      ]),
    bigLaterEvent: (_q, res) => writeAndEnd(res, 200, SSE_HEAD, [A_START, A_BLOCK, aDelta('Hello'), aDelta(BIG), ...A_END]),
    resetSync: resetMidBody(anthropicMessage('truncated answer')),
    trickle: (stream) => (_q, res) => trickle(res, stream ? SSE_HEAD : { 'content-type': 'application/json' }, 500, stream ? ':' : ' '),
  },
  bedrock: {
    model: TITAN,
    route: 'bedrock-then-ollama',
    truncated: (_q, res) => writeAndEnd(res, 200, EVENTSTREAM_HEAD, [B_START, bDelta('Hello'), bDelta(' wor')]),
    malformedFirst: (_q, res) => writeAndEnd(res, 200, EVENTSTREAM_HEAD, [bFrame('messageStart', '{"role": not json'), bDelta('x'), ...B_END]),
    bigSync: (_q, res) => writeAndEnd(res, 200, { 'content-type': 'application/json' }, [converseAnswer(BIG)]),
    bigFirstEvent: (_q, res) => writeAndEnd(res, 200, EVENTSTREAM_HEAD, [bFrame('messageStart', { role: 'assistant', pad: BIG }), bDelta('x'), ...B_END]),
    bigLaterEvent: (_q, res) => writeAndEnd(res, 200, EVENTSTREAM_HEAD, [B_START, bDelta('Hello'), bDelta(BIG), ...B_END]),
    resetSync: resetMidBody(converseAnswer('truncated answer')),
    // The event stream's bytes trickle as a frame that never completes (its prelude, then nothing whole).
    trickle: (stream) => (_q, res) => trickle(res, stream ? EVENTSTREAM_HEAD : { 'content-type': 'application/json' }, 500, stream ? '\u0000' : ' '),
  },
};

describe.each(['anthropic', 'bedrock'] as const)('%s: broken upstreams (issue 11, items 7-10)', (name) => {
  const f = FAULTS[name];
  let faulty: ScriptedUpstream;
  let ollama: ScriptedUpstream;
  let gw: TestGateway;
  let client: OpenAI;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    faulty = await startScriptedUpstream();
    ollama = await startScriptedUpstream();
    const providerEnv: Record<string, string> =
      name === 'anthropic' ? { ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: faulty.url } : fakeAwsEnv(faulty.url);
    // The Bedrock SDK reads its endpoint override and credentials from the process environment.
    if (name === 'bedrock') Object.assign(process.env, providerEnv);
    gw = await startGateway(
      {
        ...providerEnv,
        OLLAMA_BASE_URL: ollama.url,
        MAX_RESPONSE_BYTES: String(MAX_RESPONSE_BYTES),
        UPSTREAM_TIMEOUT: '1',
        REQUEST_DEADLINE: '3',
      },
      {
        routing: {
          routes: {
            [f.route]: {
              targets: [
                { provider: name, model: f.model },
                { provider: 'ollama', model: 'llama3.2' },
              ],
            },
          },
          fallback_providers: [],
          circuit_breaker: { failure_threshold: 1000, success_threshold: 1, open_seconds: 30 },
        },
      },
    );
    client = new OpenAI({ apiKey: DEFAULT_KEY, baseURL: gw.baseURL, maxRetries: 0, timeout: 20_000 });
    // A healthy call first: Bedrock's provider loads the AWS SDK on first use, which must not eat the deadline.
    faulty.script(name === 'anthropic' ? anthropicAnswers : bedrockAnswers);
    await client.chat.completions.create({ model: f.model, messages: MESSAGES });
  });
  beforeEach(() => {
    faulty.script(name === 'anthropic' ? anthropicAnswers : bedrockAnswers);
    ollama.script(ollamaAnswers);
  });
  afterAll(async () => {
    await gw.close();
    await faulty.close();
    await ollama.close();
    process.env = savedEnv;
  });

  const post = (body: Record<string, unknown>): Promise<Response> =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DEFAULT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  /** The `data:` payloads of an SSE body. */
  const events = (text: string): string[] =>
    text
      .trim()
      .split('\n\n')
      .map((e) => e.replace(/^data: /, ''));

  test('the healthy path works (sync and stream)', async () => {
    const sync = await client.chat.completions.create({ model: f.model, messages: MESSAGES });
    expect(sync.choices[0]?.message.content).toBe('ok');
    let text = '';
    for await (const c of await client.chat.completions.create({ model: f.model, messages: MESSAGES, stream: true })) text += c.choices[0]?.delta.content ?? '';
    expect(text).toBe('ok');
  });

  test('(a) a stream cut before its terminator ends with an SSE error event upstream_truncated, not [DONE]', async () => {
    faulty.script(f.truncated);
    const res = await post({ model: f.model, messages: MESSAGES, stream: true });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('Hello');
    expect(text).not.toMatch(/^data: \[DONE\]$/m);
    expect(JSON.parse(events(text).at(-1)!)).toMatchObject({ error: { code: 'upstream_truncated' } });

    // The official SDK sees an error, after the partial text.
    const stream = await client.chat.completions.create({ model: f.model, messages: MESSAGES, stream: true });
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? '');
      })(),
    ).rejects.toThrow(/terminator/);
    expect(seen.join('')).toBe('Hello wor');
  });

  /** Without a second target: the client gets 502; through the route: the fallback answers 200. */
  async function expectRetryable502(script: Script, stream: boolean, cause?: RegExp): Promise<void> {
    faulty.script(script);
    const alone = await post({ model: f.model, messages: MESSAGES, stream });
    expect(alone.status).toBe(502);
    const err = (await alone.json()) as { error: { message: string; code: string } };
    if (cause) expect(err.error.message).toMatch(cause);
    expect(err.error.message).not.toMatch(/Deserialization|\$response/);

    const res = await post({ model: f.route, messages: MESSAGES, stream });
    expect(res.status).toBe(200);
    const text = await res.text();
    const meta = (stream ? JSON.parse(events(text).at(-2)!) : JSON.parse(text)) as Meta;
    if (stream) expect(events(text).at(-1)).toBe('[DONE]');
    expect(text).toContain('fine');
    expect(meta.x_gateway.provider).toBe('ollama');
    expect(meta.x_gateway.attempts[0]).toMatchObject({ provider: name, status: 502 });
    if (cause) expect(meta.x_gateway.attempts[0]?.error).toMatch(cause);
  }

  test('(b) a reset in the middle of a sync body: 502 retryable, the fallback answers', async () => {
    await expectRetryable502(f.resetSync, false);
  });

  test('(c) a malformed first stream event: 502 retryable, the fallback answers', async () => {
    await expectRetryable502(f.malformedFirst, true);
  });

  test('(e) a sync answer over MAX_RESPONSE_BYTES: 502 retryable, the fallback answers', async () => {
    await expectRetryable502(f.bigSync, false, /MAX_RESPONSE_BYTES/);
  });

  test('(e) a sync answer announced over MAX_RESPONSE_BYTES (content-length): 502 retryable, the fallback answers', async () => {
    const big = name === 'anthropic' ? anthropicMessage(BIG) : converseAnswer(BIG);
    await expectRetryable502(
      (_q, res) => writeAndEnd(res, 200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(big)) }, [big]),
      false,
      /MAX_RESPONSE_BYTES/,
    );
  });

  test('(e) a first stream event over MAX_RESPONSE_BYTES: 502 retryable, the fallback answers', async () => {
    await expectRetryable502(f.bigFirstEvent, true, /MAX_RESPONSE_BYTES/);
  });

  // The deadline as the client sees it. Anthropic's UPSTREAM_TIMEOUT is a silence timer reset by
  // every byte, so a trickle runs into REQUEST_DEADLINE (504 deadline_exceeded at ~3 s). Bedrock's
  // SDK hands over only a whole answer or whole event-stream frames, so its silence timer (reset by
  // each complete frame) ends a byte trickle first: 504 upstream_timeout at ~1 s, within the deadline.
  const trickleEnds = name === 'anthropic' ? { code: 'deadline_exceeded', min: 2900, max: 3800 } : { code: 'upstream_timeout', min: 900, max: 1800 };
  test('(e) a later stream event over MAX_RESPONSE_BYTES ends the stream with an SSE error event, at once', async () => {
    faulty.script(f.bigLaterEvent);
    const started = Date.now();
    const stream = await client.chat.completions.create({ model: f.model, messages: MESSAGES, stream: true });
    let text = '';
    await expect(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      })(),
    ).rejects.toThrow(/MAX_RESPONSE_BYTES/);
    expect(text).toBe('Hello');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test.each([false, true])(`(d) a trickling answer (stream: %s), UPSTREAM_TIMEOUT=1, REQUEST_DEADLINE=3: 504 ${trickleEnds.code}`, async (stream) => {
    faulty.script(f.trickle(stream));
    await expect504(stream, trickleEnds.code, trickleEnds.min, trickleEnds.max);
  });

  if (name === 'bedrock') {
    test('(e) an oversized frame whose 4-byte prelude arrives split across packets is still caught, after the frames before it', async () => {
      const big = bDelta(BIG);
      faulty.script((_q, res) => {
        res.writeHead(200, EVENTSTREAM_HEAD);
        res.write(Buffer.concat([B_START, bDelta('Hello'), big.subarray(0, 2)]));
        setTimeout(() => {
          if (!res.destroyed) res.write(big.subarray(2, 1000));
        }, 50);
        setTimeout(() => {
          if (!res.destroyed) res.end(Buffer.concat([big.subarray(1000), ...B_END]));
        }, 100);
      });
      const stream = await client.chat.completions.create({ model: f.model, messages: MESSAGES, stream: true });
      let text = '';
      await expect(
        (async () => {
          for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
        })(),
      ).rejects.toThrow(/MAX_RESPONSE_BYTES/);
      expect(text).toBe('Hello');
    });

    test('(d) a stream of whole frames that carry nothing for the client, one per 0.5 s: 504 deadline_exceeded by ~3 s', async () => {
      faulty.script((_q, res) => {
        // Not even messageStart (whose role chunk would start the client's stream).
        res.writeHead(200, EVENTSTREAM_HEAD);
        const timer = setInterval(() => res.write(bFrame('contentBlockStop', { contentBlockIndex: 0 })), 500);
        res.on('close', () => clearInterval(timer));
      });
      await expect504(true, 'deadline_exceeded', 2900, 3800);
    });
  }

  async function expect504(stream: boolean, code: string, min: number, max: number): Promise<void> {
    const started = Date.now();
    const err = await (async () => {
      const answer = await client.chat.completions.create({ model: f.model, messages: MESSAGES, stream });
      if (stream)
        for await (const _ of answer as AsyncIterable<unknown>) {
          /* drain */
        }
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    const ms = Date.now() - started;
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err).toMatchObject({ status: 504, code });
    expect(ms).toBeGreaterThanOrEqual(min);
    expect(ms).toBeLessThan(max);
  }
});
