// Issue 11, item 9: what an oversized upstream costs the gateway.
//   npx tsx test/bench/upstream-size.ts
// A: CPU time to frame one 50 MB SSE event without a separator (64 KiB chunks), at the framing
//    layer, with the cap raised to 64 MiB (pure splitting cost) and at the default 32 MiB.
// B: peak RSS while 5 concurrent sync requests each get a 50 MB answer (chunked, no
//    content-length) from a fake OpenAI, through the real gateway over sockets.
import { sseData } from '../../functions/core/providers/stream-framing';
import { startGateway, DEFAULT_KEY } from '../helpers/gateway';
import { startScriptedUpstream } from '../fakes/scripted-upstream';

const MiB = 1024 * 1024;

async function* unseparated(total: number): AsyncGenerator<Buffer> {
  yield Buffer.from('data: "');
  const piece = Buffer.alloc(64 * 1024, 'a');
  for (let sent = 0; sent < total; sent += piece.length) yield piece;
}

async function framingCpu(maxBytes: number): Promise<string> {
  const start = process.cpuUsage();
  const t0 = Date.now();
  let outcome = 'framed';
  try {
    // Old builds ignore the third argument (no cap).
    for await (const _ of (sseData as (b: AsyncIterable<Buffer>, p: string, m: number) => AsyncIterable<string>)(unseparated(50 * MiB), 'openai', maxBytes)) {
      /* drain */
    }
  } catch (err) {
    outcome = `refused (${(err as Error).message.slice(0, 60)}…)`;
  }
  const cpu = process.cpuUsage(start);
  return `cpu ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms, wall ${Date.now() - t0} ms, ${outcome}`;
}

async function syncRss(): Promise<string> {
  const body = JSON.stringify({
    id: 'x',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o',
    choices: [{ index: 0, message: { role: 'assistant', content: 'a'.repeat(50 * MiB) }, finish_reason: 'stop' }],
  });
  const piece = Buffer.from(body);
  const openai = await startScriptedUpstream('/v1');
  openai.script((_q, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    for (let i = 0; i < piece.length; i += MiB) res.write(piece.subarray(i, i + MiB));
    res.end();
  });
  const gw = await startGateway({ OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: openai.url, UPSTREAM_TIMEOUT: '60', REQUEST_DEADLINE: '120' });
  global.gc?.();
  const base = process.memoryUsage.rss();
  let peak = base;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  const t0 = Date.now();
  const statuses = await Promise.all(
    Array.from({ length: 5 }, async () => {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${DEFAULT_KEY}`, 'content-type': 'application/json', 'x-provider': 'openai' },
        body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
      });
      await res.arrayBuffer();
      return res.status;
    }),
  );
  const wall = Date.now() - t0;
  clearInterval(sampler);
  await gw.close();
  await openai.close();
  return (
    `statuses ${statuses.join(',')}, RSS base ${(base / MiB).toFixed(0)} MB, peak ${(peak / MiB).toFixed(0)} MB (+${((peak - base) / MiB).toFixed(0)} MB), ` +
    `wall ${wall} ms`
  );
}

async function main(): Promise<void> {
  if (process.env.ONLY_B) {
    console.log(`B  5 × 50 MB sync answers:  ${await syncRss()}`);
    return;
  }
  console.log(`A  50 MB event, cap 64 MiB: ${await framingCpu(64 * MiB)}`);
  console.log(`A  50 MB event, cap 32 MiB: ${await framingCpu(32 * MiB)}`);
  console.log(`B  5 × 50 MB sync answers:  ${await syncRss()}`);
}

void main();
