// `npx tsx test/bench/upstream-client.ts`: the gateway's upstream client (node:http keep-alive
// agent, sendUpstream + readText) against undici's Pool, in this process, on the fake OpenAI
// upstream in its own process: completions per second and this process's CPU µs per completion,
// rounds alternating between the two clients. Env: CLIENT_BENCH_SECONDS (per round, default 3),
// CLIENT_BENCH_ROUNDS (default 4), CLIENT_BENCH_CONCURRENCY (default 64).
import path from 'node:path';
import { Pool } from 'undici';
import { readText, sendUpstream } from '../../functions/core/providers/upstream-http';
import { installExitHooks, stopAll } from './children';
import { startUpstream } from './processes';
import { median } from './stats';

const SECONDS = Number(process.env.CLIENT_BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.CLIENT_BENCH_ROUNDS ?? 4);
const CONCURRENCY = Number(process.env.CLIENT_BENCH_CONCURRENCY ?? 64);
const BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hi' }] });
const HEADERS = { authorization: 'Bearer sk-test', 'content-type': 'application/json' };
const TIMEOUT_MS = 30_000;

type Completion = () => Promise<string>;

function nodeHttpClient(url: string): Completion {
  return async () => {
    const res = await sendUpstream({ provider: 'openai', url, method: 'POST', headers: HEADERS, body: BODY, timeoutMs: TIMEOUT_MS });
    return readText(res, 'openai');
  };
}

function undiciClient(url: string): { call: Completion; close: () => Promise<void> } {
  const u = new URL(url);
  const pool = new Pool(u.origin, { connections: 512, pipelining: 1, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS, keepAliveTimeout: 4000 });
  const call: Completion = async () => {
    const res = await pool.request({
      path: u.pathname,
      method: 'POST',
      headers: { ...HEADERS, 'content-length': String(Buffer.byteLength(BODY)) },
      body: BODY,
    });
    return res.body.text();
  };
  return { call, close: () => pool.close() };
}

/** CONCURRENCY loops for SECONDS: completions per second and CPU µs per completion of this process. */
async function round(call: Completion): Promise<{ rps: number; cpuUsPerCall: number }> {
  let done = 0;
  const until = performance.now() + SECONDS * 1000;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const loop = async (): Promise<void> => {
    while (performance.now() < until) {
      const text = await call();
      if (!text.includes('"choices"')) throw new Error(`unexpected answer: ${text.slice(0, 200)}`);
      done++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  const elapsedS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { rps: done / elapsedS, cpuUsPerCall: (cpu.user + cpu.system) / done };
}

async function main(): Promise<void> {
  installExitHooks();
  const root = process.cwd();
  const upstream = await startUpstream({ root, benchDir: path.join(root, 'test', 'bench'), outDir: path.join(root, '.bench') });
  const url = `${upstream.url}/chat/completions`;
  const undici = undiciClient(url);
  const clients: Record<string, Completion> = { 'node:http': nodeHttpClient(url), undici: undici.call };
  const results: Record<string, Array<{ rps: number; cpuUsPerCall: number }>> = { 'node:http': [], undici: [] };
  // Warm-up: JIT and both pools' connections.
  for (const call of Object.values(clients)) await round(call);
  for (let r = 0; r < ROUNDS; r++) {
    const names = r % 2 === 0 ? ['node:http', 'undici'] : ['undici', 'node:http'];
    for (const name of names) {
      const x = await round(clients[name]!);
      results[name]!.push(x);
      console.log(`round ${r + 1} ${name.padEnd(9)} ${x.rps.toFixed(0).padStart(6)} req/s  ${x.cpuUsPerCall.toFixed(1).padStart(6)} µs CPU per call`);
    }
  }
  for (const [name, xs] of Object.entries(results)) {
    console.log(
      `median   ${name.padEnd(9)} ${median(xs.map((x) => x.rps))
        .toFixed(0)
        .padStart(6)} req/s  ${median(xs.map((x) => x.cpuUsPerCall))
        .toFixed(1)
        .padStart(6)} µs CPU per call`,
    );
  }
  await undici.close();
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
