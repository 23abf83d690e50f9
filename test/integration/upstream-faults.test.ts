// Broken upstreams as a client sees them (issue 11, items 7-10), over real sockets: a scripted
// fake OpenAI and a scripted fake Ollama send the faults in their real wire formats, and the
// client is the official `openai` SDK (or fetch, where the raw bytes matter).
import OpenAI from 'openai';
import { loadConfig } from '../../functions/config';
import { captureOutput, type CapturedOutput } from '../helpers/captured-output';
import { DEFAULT_KEY, startGateway, type TestGateway } from '../helpers/gateway';
import {
  NDJSON_HEAD,
  OLLAMA_DONE,
  ollamaLine,
  openaiChunk,
  openaiCompletion,
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

/** A healthy Ollama: the fallback target. */
const ollamaAnswers: Script = (_req, res, body) => {
  const stream = (JSON.parse(body) as { stream?: boolean }).stream !== false;
  if (stream) writeAndEnd(res, 200, NDJSON_HEAD, [ollamaLine('fine'), OLLAMA_DONE]);
  else writeAndEnd(res, 200, { 'content-type': 'application/json' }, [OLLAMA_DONE.replace('"content":""', '"content":"fine"')]);
};

/** A healthy OpenAI (the fallback target when Ollama is asked first). */
const openaiAnswers: Script = (_req, res, body) => {
  if ((JSON.parse(body) as { stream?: boolean }).stream) {
    writeAndEnd(res, 200, SSE_HEAD, [
      openaiChunk(''),
      openaiChunk('fine'),
      openaiChunk('', { choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } }),
      'data: [DONE]\n\n',
    ]);
  } else {
    writeAndEnd(res, 200, { 'content-type': 'application/json' }, [openaiCompletion('fine')]);
  }
};

const MESSAGES = [{ role: 'user' as const, content: 'hi' }];

describe('broken upstreams', () => {
  let openai: ScriptedUpstream;
  let ollama: ScriptedUpstream;
  let gw: TestGateway;
  let client: OpenAI;
  let out: CapturedOutput | undefined;

  beforeAll(async () => {
    openai = await startScriptedUpstream('/v1');
    ollama = await startScriptedUpstream();
    gw = await startGateway(
      { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openai.url, OLLAMA_BASE_URL: ollama.url, MAX_RESPONSE_BYTES: String(4 * 1024 * 1024) },
      {
        log: true,
        routing: { circuit_breaker: { failure_threshold: 1000, success_threshold: 1, open_seconds: 30 } },
      },
    );
    client = new OpenAI({ apiKey: DEFAULT_KEY, baseURL: gw.baseURL, maxRetries: 0 });
  });
  beforeEach(() => {
    out = captureOutput();
    openai.script(openaiAnswers);
    ollama.script(ollamaAnswers);
  });
  afterEach(() => out?.restore());
  afterAll(async () => {
    await gw.close();
    await openai.close();
    await ollama.close();
  });

  /** The warn lines the gateway logged during this test, as text. */
  const warnings = (): string =>
    out
      ?.lines()
      .filter((l) => l.level === 'warn' || l.level === 'WARN')
      .map((l) => JSON.stringify(l))
      .join('\n') ?? '';

  describe('item 7: a stream that ends without its terminator is an error, for every provider', () => {
    test.each([
      [
        'openai',
        'gpt-4o',
        (): void => openai.script((_q, res) => writeAndEnd(res, 200, SSE_HEAD, [openaiChunk(''), openaiChunk('Hello'), openaiChunk(' wor')])),
      ],
      ['ollama', 'llama3.2', (): void => ollama.script((_q, res) => writeAndEnd(res, 200, NDJSON_HEAD, [ollamaLine('Hello'), ollamaLine(' wor')]))],
    ])('%s: the client gets the partial text, then an SSE error event and no [DONE]', async (provider, model, arrange) => {
      arrange();
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${DEFAULT_KEY}`, 'content-type': 'application/json', 'x-provider': provider },
        body: JSON.stringify({ model, messages: MESSAGES, stream: true }),
      });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toContain('Hello');
      expect(text).not.toMatch(/^data: \[DONE\]$/m);
      const last = JSON.parse(
        text
          .trim()
          .split('\n\n')
          .at(-1)!
          .replace(/^data: /, ''),
      ) as { error?: { code: string; message: string } };
      expect(last.error?.code).toBe('upstream_truncated');
      expect(warnings()).toMatch(/stream failed after it started.*upstream_truncated|before its terminator/);
    });

    test('anthropic: the same rule (no message_stop), through the same SSE error event', async () => {
      const anthropic = await startScriptedUpstream();
      const agw = await startGateway({ ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: anthropic.url, OLLAMA_BASE_URL: ollama.url });
      try {
        const event = (type: string, data: Record<string, unknown>): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
        anthropic.script((_q, res) =>
          writeAndEnd(res, 200, SSE_HEAD, [
            event('message_start', {
              message: {
                id: 'msg_fault',
                type: 'message',
                role: 'assistant',
                model: 'claude-haiku-4-5',
                content: [],
                stop_reason: null,
                usage: { input_tokens: 5, output_tokens: 1 },
              },
            }),
            event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
            event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hello' } }),
          ]),
        );
        const res = await fetch(`${agw.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${DEFAULT_KEY}`, 'content-type': 'application/json', 'x-provider': 'anthropic' },
          body: JSON.stringify({ model: 'claude-haiku-4-5', messages: MESSAGES, stream: true }),
        });
        const text = await res.text();
        expect(text).toContain('Hello');
        expect(text).not.toMatch(/^data: \[DONE\]$/m);
        expect(
          JSON.parse(
            text
              .trim()
              .split('\n\n')
              .at(-1)!
              .replace(/^data: /, ''),
          ),
        ).toMatchObject({ error: { code: 'upstream_truncated' } });
      } finally {
        await agw.close();
        await anthropic.close();
      }
    });

    test('the official SDK sees an error, not a complete answer', async () => {
      openai.script((_q, res) => writeAndEnd(res, 200, SSE_HEAD, [openaiChunk(''), openaiChunk('Hello')]));
      const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: MESSAGES, stream: true }, { headers: { 'x-provider': 'openai' } });
      const seen: string[] = [];
      await expect(
        (async () => {
          for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? '');
        })(),
      ).rejects.toThrow(/before its terminator/);
      expect(seen.join('')).toBe('Hello');
    });

    test('a truncated stream counts against the breaker', async () => {
      const strict = await startGateway(
        { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openai.url, OLLAMA_BASE_URL: ollama.url },
        {
          routing: { circuit_breaker: { failure_threshold: 1, success_threshold: 1, open_seconds: 30 } },
        },
      );
      try {
        openai.script((_q, res) => writeAndEnd(res, 200, SSE_HEAD, [openaiChunk(''), openaiChunk('Hello')]));
        const first = await fetch(`${strict.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${DEFAULT_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'gpt-4o', messages: MESSAGES, stream: true }),
        });
        await first.text();
        const calls = openai.calls;
        const next = (await (
          await fetch(`${strict.url}/v1/chat/completions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${DEFAULT_KEY}`, 'content-type': 'application/json' },
            body: JSON.stringify({ model: 'gpt-4o', messages: MESSAGES }),
          })
        ).json()) as Meta;
        expect(next.x_gateway.provider).toBe('ollama');
        expect(next.x_gateway.attempts[0]).toMatchObject({ provider: 'openai', error: 'circuit open' });
        expect(openai.calls).toBe(calls);
      } finally {
        await strict.close();
      }
    });
  });

  describe('item 8: provider faults are 502, retryable (the next target answers), cause logged', () => {
    const cases: Array<[string, boolean, 'openai' | 'ollama', Script, RegExp]> = [
      [
        'a reset in the middle of a sync body',
        false,
        'openai',
        (_q, res) => {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': '5000' });
          res.write(openaiCompletion('x').slice(0, 40), () => res.socket?.resetAndDestroy());
        },
        /ECONNRESET|broke mid-response/,
      ],
      [
        'a malformed first SSE event',
        true,
        'openai',
        (_q, res) => writeAndEnd(res, 200, SSE_HEAD, ['data: {"id": not json\n\n', 'data: [DONE]\n\n']),
        /not JSON/,
      ],
      [
        '200 text/html to a stream request',
        true,
        'openai',
        (_q, res) => writeAndEnd(res, 200, { 'content-type': 'text/html' }, ['<html><body>Bad gateway</body></html>']),
        /text\/html/,
      ],
      [
        'an Ollama stream line that is not JSON',
        true,
        'ollama',
        (_q, res) => writeAndEnd(res, 200, NDJSON_HEAD, ['{"model":"llama3.2", broken\n', OLLAMA_DONE]),
        /not JSON/,
      ],
    ];
    test.each(cases)('%s (stream: %s)', async (_name, stream, faulty, script, cause) => {
      (faulty === 'openai' ? openai : ollama).script(script);
      const model = faulty === 'openai' ? 'gpt-4o' : 'llama3.2';
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${DEFAULT_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: MESSAGES, stream }),
      });
      expect(res.status).toBe(200);
      const text = await res.text();
      const meta = (
        stream
          ? JSON.parse(
              text
                .trim()
                .split('\n\n')
                .at(-2)!
                .replace(/^data: /, ''),
            )
          : JSON.parse(text)
      ) as Meta;
      expect(meta.x_gateway.provider).toBe(faulty === 'openai' ? 'ollama' : 'openai');
      expect(meta.x_gateway.attempts[0]).toMatchObject({ provider: faulty, status: 502 });
      expect(meta.x_gateway.attempts[0]?.error).toMatch(cause);
      expect(warnings()).toMatch(cause);
      expect(warnings()).not.toContain('sk-test');
    });
  });
  describe('item 9: an answer or an event over MAX_RESPONSE_BYTES (4 MiB here) is a retryable 502', () => {
    const big = openaiCompletion('a'.repeat(5 * 1024 * 1024));
    /** A stream whose event after `before` never ends: 5 MiB with no separator, then a clean close. */
    const endlessEvent =
      (before: string[]): Script =>
      (_q, res) => {
        res.writeHead(200, SSE_HEAD);
        for (const e of before) res.write(e);
        res.write('data: {"choices":[{"delta":{"content":"');
        const piece = 'a'.repeat(64 * 1024);
        for (let i = 0; i < 80; i++) res.write(piece);
        res.end();
      };
    const cases: Array<[string, Script]> = [
      [
        'a sync answer announced larger (content-length)',
        (_q, res) => writeAndEnd(res, 200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(big)) }, [big]),
      ],
      ['a sync answer found larger (chunked)', (_q, res) => writeAndEnd(res, 200, { 'content-type': 'application/json' }, [big])],
    ];
    test.each(cases)('%s: the next target answers', async (_name, script) => {
      openai.script(script);
      const started = Date.now();
      const completion = await client.chat.completions.create({ model: 'gpt-4o', messages: MESSAGES });
      const meta = completion as unknown as Meta;
      expect(meta.x_gateway.provider).toBe('ollama');
      expect(meta.x_gateway.attempts[0]).toMatchObject({ provider: 'openai', status: 502, error: expect.stringContaining('MAX_RESPONSE_BYTES') });
      expect(Date.now() - started).toBeLessThan(5000);
    });

    test('a first stream event without a separator over the cap: the stream falls back before its first byte', async () => {
      openai.script(endlessEvent([]));
      const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: MESSAGES, stream: true });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      expect(text).toBe('fine'); // from ollama
      expect(warnings()).toContain('MAX_RESPONSE_BYTES');
    });

    test('a later stream event over the cap ends the stream with an SSE error event, at once', async () => {
      openai.script(endlessEvent([openaiChunk(''), openaiChunk('Hello')]));
      const started = Date.now();
      const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: MESSAGES, stream: true });
      let text = '';
      await expect(
        (async () => {
          for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
        })(),
      ).rejects.toThrow(/MAX_RESPONSE_BYTES/);
      expect(text).toBe('Hello');
      expect(Date.now() - started).toBeLessThan(5000);
    });
  });
});

describe("item 10: REQUEST_DEADLINE bounds a sync answer and a stream's first byte (UPSTREAM_TIMEOUT=1, REQUEST_DEADLINE=3)", () => {
  let openai: ScriptedUpstream;
  let ollama: ScriptedUpstream;
  let gw: TestGateway;
  let client: OpenAI;

  beforeAll(async () => {
    openai = await startScriptedUpstream('/v1');
    ollama = await startScriptedUpstream();
    ollama.script(ollamaAnswers);
    gw = await startGateway({
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: openai.url,
      OLLAMA_BASE_URL: ollama.url,
      UPSTREAM_TIMEOUT: '1',
      REQUEST_DEADLINE: '3',
    });
    client = new OpenAI({ apiKey: DEFAULT_KEY, baseURL: gw.baseURL, maxRetries: 0, timeout: 20_000 });
  });
  afterAll(async () => {
    await gw.close();
    await openai.close();
    await ollama.close();
  });

  /** Runs `call`, returning the error it fails with and how long it took. */
  async function timed(call: () => Promise<unknown>): Promise<{ err: unknown; ms: number }> {
    const started = Date.now();
    const err = await call().then(
      () => undefined,
      (e: unknown) => e,
    );
    return { err, ms: Date.now() - started };
  }

  test.each([
    [
      'a sync request, the answer trickling 1 byte per 0.5 s',
      false,
      (): void => openai.script((_q, res) => trickle(res, { 'content-type': 'application/json' }, 500)),
    ],
    ['a stream, the first event trickling 1 byte per 0.5 s', true, (): void => openai.script((_q, res) => trickle(res, SSE_HEAD, 500))],
    ['a stream sending only keep-alive comments every 0.5 s', true, (): void => openai.script((_q, res) => trickle(res, SSE_HEAD, 500, ':\n'))],
  ])('%s: 504 by the deadline', async (_name, stream, arrange) => {
    arrange();
    const { err, ms } = await timed(async () => {
      const answer = await client.chat.completions.create({ model: 'gpt-4o', messages: MESSAGES, stream });
      if (stream)
        for await (const _ of answer as AsyncIterable<unknown>) {
          /* drain */
        }
    });
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(504);
    expect((err as Error).message).toMatch(/deadline/);
    expect(ms).toBeGreaterThanOrEqual(2900);
    expect(ms).toBeLessThan(3800);
  });

  test('an embeddings answer trickling 1 byte per 0.5 s: 504 by the deadline too', async () => {
    openai.script((_q, res) => trickle(res, { 'content-type': 'application/json' }, 500));
    const { err, ms } = await timed(() => client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello' }));
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err).toMatchObject({ status: 504, code: 'deadline_exceeded' });
    expect(ms).toBeGreaterThanOrEqual(2900);
    expect(ms).toBeLessThan(3800);
  });

  test('a stream whose first chunk came in time is not cut by the deadline', async () => {
    openai.script((_q, res) => {
      res.writeHead(200, SSE_HEAD);
      res.write(openaiChunk(''));
      let i = 0;
      const timer = setInterval(() => {
        if (i < 8) {
          res.write(openaiChunk(`t${i++} `));
          return;
        }
        clearInterval(timer);
        res.end('data: [DONE]\n\n');
      }, 500);
      res.on('close', () => clearInterval(timer));
    });
    const started = Date.now();
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: MESSAGES, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('t0 t1 t2 t3 t4 t5 t6 t7 ');
    expect(Date.now() - started).toBeGreaterThan(3500);
  });
});

describe('MAX_RESPONSE_BYTES configuration', () => {
  test('defaults to 32 MiB; a positive integer up to 256 MiB is taken, anything else refused at start', () => {
    const load = (v?: string): number => loadConfig(v === undefined ? {} : { MAX_RESPONSE_BYTES: v }, () => '{}').maxResponseBytes;
    expect(load()).toBe(32 * 1024 * 1024);
    expect(load('1048576')).toBe(1048576);
    for (const bad of ['0', '-1', '1.5', 'lots', String(512 * 1024 * 1024)]) expect(() => load(bad)).toThrow(/MAX_RESPONSE_BYTES/);
  });
});
