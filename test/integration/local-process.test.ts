// The local server as `npm start` runs it: a real process, real signals.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { eventually } from '../helpers/eventually';
import { DEFAULT_KEY } from '../helpers/gateway';

const ROOT = join(__dirname, '..', '..');

interface Proc {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** Runs bin/local.ts with a clean environment plus `env`; resolves once it logs its URL. */
async function launch(env: Record<string, string>): Promise<Proc> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ADDR: '127.0.0.1:0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start within 10 s: ${out}`)), 10_000);
    const check = (): void => {
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}: ${out}`));
    });
  });
  return { child, url, output: () => out };
}

async function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

describe('local server process', () => {
  test('starts with no provider keys and no reachable upstream, and still answers /health', async () => {
    const proc = await launch({ OLLAMA_BASE_URL: 'http://127.0.0.1:1' });
    try {
      const res = await fetch(`${proc.url}/health`);
      expect(res.status).toBe(200);
      const health = (await res.json()) as { status: string; version: string; providers: Record<string, string> };
      expect(health.providers).toEqual({ openai: 'unconfigured', anthropic: 'unconfigured', bedrock: 'unconfigured', ollama: 'unreachable' });
      expect(health.status).toBe('degraded');
      expect(health.version).toMatch(/^\d+\.\d+\.\d+/);
      const chat = await fetch(`${proc.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${DEFAULT_KEY}` },
        body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(chat.status).toBe(502);
    } finally {
      proc.child.kill('SIGTERM');
      expect(await exitCode(proc.child)).toBe(0);
    }
  });

  test('a bad environment value stops the start with a message naming the variable', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', PORT: 'eighty' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    expect(await exitCode(child)).toBe(1);
    expect(err).toContain('PORT must be an integer');
  });

  test("a named provider's key variable that is not set stops the start, naming the variable", async () => {
    const routing = { providers: { groq: { type: 'openai', base_url: 'http://127.0.0.1:9/v1', api_key_env: 'GROQ_API_KEY' } } };
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ADDR: '127.0.0.1:0', GATEWAY_CONFIG_JSON: JSON.stringify(routing) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    expect(await exitCode(child)).toBe(1);
    expect(err).toBe('ai-gateway: configuration error: providers.groq.api_key_env names GROQ_API_KEY, which is not set in the environment\n');
  });

  describe('graceful shutdown', () => {
    let upstream: FakeUpstream;
    beforeAll(async () => {
      upstream = await startOpenAIUpstream();
    });
    afterAll(async () => {
      await upstream.close();
    });

    test('SIGTERM lets an in-flight stream finish, refuses new connections, then exits 0', async () => {
      upstream.setBehaviour({ streamChunks: 20, chunkDelayMs: 25 });
      const proc = await launch({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url, DRAIN_TIMEOUT: '10' });
      const res = await fetch(`${proc.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${DEFAULT_KEY}` },
        body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'long' }], stream: true }),
      });
      const reader = res.body!.getReader();
      await reader.read(); // the stream is under way
      proc.child.kill('SIGTERM');
      // The signal is handled in the child's own time: wait for it to stop listening, then check once more.
      await eventually(
        'the listener closed',
        () =>
          fetch(`${proc.url}/health`).then(
            (r) => r.arrayBuffer().then(() => false),
            () => true,
          ),
        5_000,
        20,
      );
      await expect(fetch(`${proc.url}/health`)).rejects.toThrow();
      let text = '';
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value);
      }
      expect(text).toContain('tok19 ');
      expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
      expect(await exitCode(proc.child)).toBe(0);
      expect(proc.output()).toContain('"message":"stopped"');
    });

    test('DRAIN_TIMEOUT cuts a stream that outlives it', async () => {
      upstream.setBehaviour({ streamChunks: 200, chunkDelayMs: 50 });
      const proc = await launch({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url, DRAIN_TIMEOUT: '1' });
      const res = await fetch(`${proc.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${DEFAULT_KEY}` },
        body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'longer' }], stream: true }),
      });
      const reader = res.body!.getReader();
      await reader.read();
      const started = Date.now();
      proc.child.kill('SIGTERM');
      expect(await exitCode(proc.child)).toBe(0);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(proc.output()).toContain('drain timeout reached');
      await reader.cancel().catch(() => undefined);
    });
  });
});
