// The local server's memory under clients that send most of a large body and then stall (issue
// 11, item 2), measured on the real entry in its own process (/proc VmRSS, VmHWM): what bodies in
// flight may hold is capped process-wide, the process keeps serving, and its RSS returns near its
// baseline once the clients leave. Before the cap, 100 such clients held every byte they sent.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const CLIENTS = 100;
const BODY_BYTES = 6 * 1024 * 1024 - 1024; // under MAX_BODY_BYTES: each is a legitimate body
const SENT_BYTES = BODY_BYTES - 1; // all but the last byte, then nothing more
const MB = 1024 * 1024;

/** VmRSS and VmHWM (peak) of a process, in MB. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

async function health(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  await res.arrayBuffer();
  return res.status;
}

describe('stalled large bodies (the real entry, in its own process)', () => {
  let child: ChildProcess;
  let port: number;

  beforeAll(async () => {
    child = spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', PORT: '0', OLLAMA_BASE_URL: 'http://127.0.0.1:1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not listening: ${out}`)), 15_000);
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /"url":"http:\/\/[^"]+:(\d+)"/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
    });
  }, 20_000);

  afterAll(async () => {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  });

  test('100 clients stalling 6 MiB bodies: memory stays bounded, requests are served, RSS returns near its baseline', async () => {
    for (let i = 0; i < 5; i++) expect(await health(port)).toBe(200);
    const pid = child.pid as number;
    const baseline = memoryOf(pid).rss;

    const chunk = Buffer.alloc(SENT_BYTES, 0x20);
    const sockets = await Promise.all(
      Array.from(
        { length: CLIENTS },
        () =>
          new Promise<net.Socket>((resolve) => {
            const s = net.connect(port, '127.0.0.1', () => {
              s.write(
                `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer gw-default-key\r\n` +
                  `content-type: application/json\r\ncontent-length: ${BODY_BYTES}\r\n\r\n`,
              );
              s.write(chunk);
              resolve(s);
            });
            s.on('error', () => undefined); // a refused body is answered and closed: expected
            s.resume();
          }),
      ),
    );
    // Let the server take in what it will (the clients' writes drain into its buffers).
    await new Promise((r) => setTimeout(r, 2_000));
    const during = memoryOf(pid);
    expect(await health(port)).toBe(200);

    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 1_500));
    const after = memoryOf(pid);
    expect(await health(port)).toBe(200);

    // 100 × 6 MiB would be 600 MB held; the process-wide cap (64 MiB by default) keeps it far below.
    const sent = (CLIENTS * SENT_BYTES) / MB;
    expect(sent).toBeGreaterThan(500);
    expect(during.peak - baseline).toBeLessThan(250);
    // What the process keeps once they left (+118 MB measured on Node 20, +155–166 MB on Node 24,
    // whose allocator returns less within the 1.5 s): far from the 600 MB it held without the cap.
    expect(after.rss - baseline).toBeLessThan(200);
  }, 30_000);
});
