// A throwaway redis-server on 127.0.0.1 and a free port, without persistence, for the Redis
// adapters' tests. A missing redis-server fails the suite (never skips it): CI installs one.
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './store-processes';

export interface RunningRedis {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Resolves once the server logs that it accepts connections; rejects if it exits first. */
function waitReady(child: ChildProcess, bin: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => finish(new Error(`redis-server not ready after ${timeoutMs} ms:\n${log}`)), timeoutMs);
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('error', onError);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve();
    };
    const onData = (chunk: Buffer): void => {
      log += chunk.toString();
      if (log.includes('Ready to accept connections')) finish();
    };
    const onError = (err: NodeJS.ErrnoException): void =>
      finish(err.code === 'ENOENT' ? new Error(`${bin} not found: install it (apt-get install -y redis-server) to run the Redis tests`) : err);
    const onExit = (code: number | null): void => finish(new Error(`redis-server exited with ${code} before it was ready:\n${log}`));
    child.stdout?.on('data', onData);
    child.once('error', onError);
    child.once('exit', onExit);
  });
}

async function startOnce(): Promise<RunningRedis> {
  // Read per start, so a test can point it elsewhere.
  const bin = process.env.REDIS_SERVER_BIN ?? 'redis-server';
  const port = await freePort();
  const child = spawn(bin, ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitReady(child, bin, 10_000);
  // Keep draining its output so a chatty server never blocks on a full pipe.
  child.stdout?.resume();
  child.stderr?.resume();
  const pid = child.pid;
  if (pid === undefined) throw new Error('redis-server started without a pid');
  return {
    url: `redis://127.0.0.1:${port}`,
    pid,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export async function startRedis(): Promise<RunningRedis> {
  // The port is free when picked but could be taken before redis binds it: try a few.
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce();
    } catch (err) {
      if (err instanceof Error && err.message.includes('not found')) throw err;
      last = err;
    }
  }
  throw last;
}
