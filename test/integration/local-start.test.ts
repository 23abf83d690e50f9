// Starting the local server as `npm start` does (issue 11, items 4 and 5): where it listens by
// default, the warning when it is exposed with the admin API open, and a port already taken.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** A non-loopback address of this machine, to try the server as another host on the LAN would. */
const lanAddress = Object.values(os.networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
const lanTest = lanAddress ? test : test.skip;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs bin/local.ts with a clean environment plus `env`; stops it (SIGTERM) once `until` matches its output. */
async function run(env: Record<string, string>, until?: RegExp, whileUp?: (stdout: string) => Promise<void>): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', OLLAMA_BASE_URL: 'http://127.0.0.1:1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    const wasUp = until?.test(stdout) ?? false;
    stdout += d.toString();
    if (!wasUp && until?.test(stdout)) void (whileUp ? whileUp(stdout) : Promise.resolve()).finally(() => child.kill('SIGTERM'));
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(killer);
  return { code, stdout, stderr };
}

describe('local server start-up', () => {
  test('a port already in use: exit 1 with one line naming the address, no stack', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      const r = await run({ ADDR: `127.0.0.1:${port}` });
      expect(r.code).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toEqual([`ai-gateway: cannot listen on 127.0.0.1:${port}: the address is already in use (EADDRINUSE)`]);
      expect(r.stdout).not.toContain('listening');
    } finally {
      taken.close();
    }
  });

  lanTest('without ADDR it listens on loopback only: another host cannot connect; no exposure warning', async () => {
    let reached: string | undefined;
    const r = await run({ PORT: '0' }, /"url":"http:[^"]+"/, async (out) => {
      const port = Number(/"url":"http:\/\/[^"]+:(\d+)"/.exec(out)?.[1]);
      reached = await new Promise<string>((resolve) => {
        const c = net.connect({ host: lanAddress as string, port }, () => {
          c.destroy();
          resolve('connected');
        });
        c.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      });
    });
    expect(r.stdout).toMatch(/"url":"http:\/\/127\.0\.0\.1:\d+"/);
    expect(reached).toBe('ECONNREFUSED');
    expect(r.stdout).not.toContain('listening beyond loopback');
  });

  test('ADDR=":port" exposes it; with the admin API unauthenticated a warning names ADMIN_AUTH_ENABLED', async () => {
    const r = await run({ ADDR: ':0' }, /"url":"http:[^"]+"/);
    const warning = r.stdout.split('\n').find((l) => l.includes('listening beyond loopback'));
    expect(warning).toBeDefined();
    expect(JSON.parse(warning as string).level).toBe('warn');
    expect(warning).toContain('ADMIN_AUTH_ENABLED');
  });
});
