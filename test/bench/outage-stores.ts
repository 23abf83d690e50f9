// The shared stores of the outage section, each a real server process that can be SIGKILLed and
// started again on the same port with its data: Debian's redis-server with an fsync-always append
// log, and dynalite persisted to a directory. Both listen on 127.0.0.1 only and are tracked by
// children.ts, so they are stopped with the rest of the bench.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, sleep, startChild, type Child } from './children';

export type StoreKind = 'redis' | 'dynamodb';

export interface KillableStore {
  kind: StoreKind;
  /** What a gateway needs in its environment to use this store. */
  gatewayEnv: Record<string, string>;
  /** The current server process (changes with a restart). */
  pid(): number;
  /** SIGKILL (no shutdown, no final write); resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data; resolves once it accepts connections. */
  restart(): Promise<void>;
  /** Stops it for good and removes its data directory. */
  close(): Promise<void>;
}

interface ProcessSpec {
  name: string;
  cmd: string;
  args: string[];
  cwd?: string;
  /** The stdout line that says the server accepts connections. */
  ready: (line: string) => boolean;
}

/** One store process at a time on a fixed port; kill and restart swap it for a fresh one. */
async function killableProcess(kind: StoreKind, spec: ProcessSpec, dir: string, gatewayEnv: Record<string, string>): Promise<KillableStore> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  const start = async (): Promise<Child> => {
    // The port was just freed by the kill; a start that loses a race for it is retried briefly.
    for (let attempt = 1; ; attempt++) {
      const child = startChild(spec.name, spec.cmd, spec.args, { env, cwd: spec.cwd });
      try {
        await child.waitForLine(spec.ready, 30_000);
        return child;
      } catch (err) {
        await child.stop();
        if (attempt >= 5) throw err;
        await sleep(100);
      }
    }
  };
  let current = await start();
  return {
    kind,
    gatewayEnv,
    pid: () => current.pid,
    async kill() {
      process.kill(current.pid, 'SIGKILL');
      await current.exited;
    },
    async restart() {
      if (current.isRunning()) throw new Error(`${spec.name} is still running`);
      current = await start();
    },
    async close() {
      await current.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** redis-server with every write fsynced to its append-only file, so a SIGKILL loses nothing it acknowledged. */
export async function startRedisStore(): Promise<KillableStore> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-outage-redis-'));
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir];
  return killableProcess('redis', { name: 'redis', cmd: 'redis-server', args, ready: (l) => l.includes('Ready to accept connections') }, dir, {
    REDIS_URL: `redis://127.0.0.1:${port}`,
  });
}

/** dynalite persisted to a directory (tenants, state and usage all live there). */
export async function startDynaliteStore(root: string, benchDir: string): Promise<KillableStore> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-outage-dynalite-'));
  const args = ['--import', 'tsx', path.join(benchDir, 'dynalite-persisted.ts'), String(port), path.join(dir, 'db')];
  return killableProcess('dynamodb', { name: 'dynalite', cmd: process.execPath, args, cwd: root, ready: (l) => l.startsWith('listening ') }, dir, {
    DYNAMODB_ENDPOINT: `http://127.0.0.1:${port}`,
    AWS_REGION: 'us-east-1',
  });
}
