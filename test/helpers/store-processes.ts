// Real stores in processes of their own, which a test can kill (SIGKILL: no goodbye to clients, as
// when a host or container dies) and start again on the same port, optionally with their data:
//   a redis-server (with `persist`: append-only file, fsync on every write, in a tmp dir);
//   dynalite (an embedded DynamoDB) in a child Node process (with `persist`: its LevelDB in a tmp
//   dir), so that killing it cuts every connection exactly like a stopped DynamoDB endpoint.
// Every tmp dir is removed by stop(). Each start waits until the store answers a real request (a
// Redis PING, a DynamoDB ListTables), not only until its port is open: a store that has just come
// back may accept connections well before it serves them (reading its data back from disk, a cold
// process), and that time is the store's own, not that of whoever waits for it. Nothing sleeps.
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventually } from './eventually';

export interface StoreProcess {
  readonly host: string;
  readonly port: number;
  /** The process now running, or undefined while killed. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** SIGKILL, resolved once the process has exited (its port is then closed). */
  kill(): Promise<void>;
  /** Starts it again on the same port (and data dir); resolves once it answers a request. */
  restart(): Promise<void>;
  /** Kills it if running and removes its tmp dir. */
  stop(): Promise<void>;
}

export interface RestartableRedis extends StoreProcess {
  /** redis://127.0.0.1:<port> */
  readonly url: string;
}

export interface RestartableDynalite extends StoreProcess {
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
}

const REPO_ROOT = path.resolve(__dirname, '..', '..');

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves once the child prints a line matching `ready`; rejects if it exits first or after `timeoutMs`. */
function waitForOutput(child: ChildProcess, name: string, ready: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => finish(new Error(`${name} not ready after ${timeoutMs} ms:\n${log}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      log += chunk.toString();
      if (ready.test(log)) finish();
    };
    const onError = (err: NodeJS.ErrnoException): void =>
      finish(err.code === 'ENOENT' ? new Error(`${name} not found: install it (apt-get install -y redis-server) to run the store tests`) : err);
    const onExit = (code: number | null, signal: string | null): void => finish(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${log}`));
    function finish(err?: Error): void {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('error', onError);
      child.off('exit', onExit);
      if (err) {
        child.kill('SIGKILL');
        reject(err);
      } else {
        // Keep draining its output so a chatty store never blocks on a full pipe.
        child.stdout?.resume();
        child.stderr?.resume();
        resolve();
      }
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', onError);
    child.once('exit', onExit);
  });
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function killAndWait(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (exited(child)) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** Whether a redis-server on the port answers PING with PONG right now (not LOADING, not silent). */
function redisAnswers(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    let reply = '';
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 1_000);
    s.once('connect', () => s.write('PING\r\n'));
    s.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    s.once('error', () => done(false));
  });
}

/** Whether dynalite on the port answers a DynamoDB request right now. */
async function dynaliteAnswers(port: number): Promise<boolean> {
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    requestHandler: { requestTimeout: 1_000, connectionTimeout: 1_000 },
  });
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }));
    return true;
  } finally {
    client.destroy();
  }
}

/**
 * A process started by `spawnIt` on a fixed port, restartable there. A start that fails because
 * the port was taken meanwhile (only possible for the very first start, from a port picked free)
 * is retried on a fresh port.
 */
async function restartable(
  name: string,
  spawnIt: (port: number) => { child: ChildProcess; ready: RegExp },
  answers: (port: number) => Promise<boolean>,
  cleanup: () => void,
): Promise<StoreProcess> {
  let port = 0;
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const { child: c, ready } = spawnIt(port);
    child = c;
    await waitForOutput(c, name, ready, 15_000);
    await eventually(`${name} on ${port} answering a request`, () => answers(port), 15_000, 20);
  };
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    port = await freePort();
    try {
      await start();
      last = undefined;
      break;
    } catch (err) {
      last = err;
      if (err instanceof Error && err.message.includes('not found')) break;
    }
  }
  if (last !== undefined) {
    cleanup();
    throw last;
  }
  return {
    host: '127.0.0.1',
    get port() {
      return port;
    },
    get pid() {
      return child && !exited(child) ? child.pid : undefined;
    },
    get running() {
      return child !== undefined && !exited(child);
    },
    async kill() {
      if (child) await killAndWait(child, 'SIGKILL');
    },
    async restart() {
      if (child && !exited(child)) await killAndWait(child, 'SIGKILL');
      await start();
    },
    async stop() {
      if (child) await killAndWait(child, 'SIGKILL');
      cleanup();
    },
  };
}

export interface RedisProcessOptions {
  /** Append-only file with an fsync per write, in a tmp dir: data survives kill -9 and restart. */
  persist?: boolean;
}

/** A redis-server on 127.0.0.1 that can be killed and restarted on the same port. */
export async function startRestartableRedis(opts: RedisProcessOptions = {}): Promise<RestartableRedis> {
  const bin = process.env.REDIS_SERVER_BIN ?? 'redis-server';
  const dir = opts.persist ? mkdtempSync(path.join(tmpdir(), 'aigw-redis-')) : undefined;
  const proc = await restartable(
    'redis-server',
    (port) => {
      const args = ['--bind', '127.0.0.1', '--port', String(port), '--save', ''];
      args.push(...(dir ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir] : ['--appendonly', 'no']));
      const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      return { child, ready: /Ready to accept connections/ };
    },
    redisAnswers,
    () => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  );
  // The port never changes after the first start: restarts reuse it.
  return Object.assign(proc, { url: `redis://127.0.0.1:${proc.port}` });
}

export interface DynaliteProcessOptions {
  /** Tables and items in a LevelDB in a tmp dir: they survive kill -9 and restart. */
  persist?: boolean;
}

// The child: dynalite on the given port (and path), ready when it prints "listening". Plain
// JavaScript run by `node -e`, so a start costs no TypeScript transform (restarts are on the
// clock of the tests). `require` resolves from the repo root (its cwd).
const DYNALITE_CHILD = `
const dynalite = require('dynalite');
const [port, dir] = process.argv.slice(1);
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(dir ? { path: dir } : {}) });
server.on('error', (err) => { process.stderr.write(String(err) + '\\n'); process.exit(1); });
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('listening ' + server.address().port + '\\n'));
process.on('SIGTERM', () => process.exit(0));
// The test process holds our stdin: if it dies without stopping us, we go too (no orphan).
process.stdin.on('end', () => process.exit(0)).on('error', () => process.exit(0)).resume();
`;

/** dynalite in its own Node process on 127.0.0.1, killable and restartable on the same port. */
export async function startRestartableDynalite(opts: DynaliteProcessOptions = {}): Promise<RestartableDynalite> {
  // The SDK needs some credentials and a region to sign with; dynalite checks neither.
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const dir = opts.persist ? mkdtempSync(path.join(tmpdir(), 'aigw-dynalite-')) : undefined;
  const proc = await restartable(
    'dynalite',
    (port) => {
      const child = spawn(process.execPath, ['-e', DYNALITE_CHILD, String(port), ...(dir ? [dir] : [])], {
        cwd: REPO_ROOT,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
      });
      return { child, ready: /listening \d+/ };
    },
    dynaliteAnswers,
    () => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  );
  return Object.assign(proc, { endpoint: `http://127.0.0.1:${proc.port}` });
}
