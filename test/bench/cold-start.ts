// Cold start: time from spawning a fresh gateway process to its first successful chat
// completion (what a scale-from-zero client would wait), polled over fresh connections.
import { performance } from 'node:perf_hooks';
import type { Child } from './children';
import { freePort, sleep } from './children';
import { request } from './http-util';

export async function coldStartOnce(o: {
  start: (port: number) => Child;
  chatUrl: (port: number) => string;
  auth: string;
  body: string;
  timeoutMs: number;
}): Promise<number> {
  const port = await freePort();
  const t0 = performance.now();
  const child = o.start(port);
  try {
    const deadline = t0 + o.timeoutMs;
    let lastError = 'no attempt';
    while (performance.now() < deadline) {
      if (!child.isRunning()) throw new Error(`gateway exited during cold start\n${child.tail()}`);
      try {
        const r = await request(o.chatUrl(port), { method: 'POST', body: o.body, headers: { authorization: o.auth }, timeoutMs: 5000 });
        if (r.status === 200) return performance.now() - t0;
        lastError = `status ${r.status}: ${r.body.slice(0, 200)}`;
      } catch (err) {
        lastError = (err as Error).message; // ECONNREFUSED until the server listens
      }
      // Short pause: the refused connect is cheap, and a longer pause would inflate the result.
      await sleep(2);
    }
    throw new Error(`gateway cold start: no successful completion within ${o.timeoutMs} ms (${lastError})\n${child.tail()}`);
  } finally {
    await child.stop();
  }
}
