// Child-process bookkeeping for the bench: every process we start is tracked so that a normal
// exit, an error or Ctrl-C all end with no leftovers.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

const live = new Set<ChildProcess>();
const TAIL_LINES = 40;

export interface Child {
  readonly name: string;
  readonly pid: number;
  /** Resolves with the exit code (null if killed by a signal or the spawn failed). */
  readonly exited: Promise<number | null>;
  isRunning(): boolean;
  /** Last lines of stdout and stderr, for error messages. */
  tail(): string;
  /** Next stdout line accepted by `match`; rejects if the child exits first or on timeout. */
  waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<string>;
  writeLine(line: string): void;
  stop(): Promise<void>;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Keep stdin open for line commands (the upstream uses it); otherwise it is ignored. */
  stdin?: boolean;
  /** Stdout goes to this file (truncated), not to a pipe the bench reads; waitForLine then sees nothing. */
  stdoutFile?: string;
}

export function startChild(name: string, cmd: string, args: string[], opts: StartOptions = {}): Child {
  const stdoutFd = opts.stdoutFile === undefined ? undefined : openSync(opts.stdoutFile, 'w');
  const proc = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: [opts.stdin ? 'pipe' : 'ignore', stdoutFd ?? 'pipe', 'pipe'],
  });
  // The child has its own copy of the descriptor.
  if (stdoutFd !== undefined) closeSync(stdoutFd);
  live.add(proc);
  const tailBuf: string[] = [];
  const push = (line: string): void => {
    tailBuf.push(line);
    if (tailBuf.length > TAIL_LINES) tailBuf.shift();
  };
  type Waiter = { match: (l: string) => boolean; resolve: (l: string) => void; reject: (e: Error) => void };
  const waiters = new Set<Waiter>();

  // Both pipes are always drained: a chatty child blocked on a full pipe would distort timings.
  if (proc.stdout)
    createInterface({ input: proc.stdout }).on('line', (line) => {
      push(line);
      for (const w of waiters) {
        if (w.match(line)) {
          waiters.delete(w);
          w.resolve(line);
        }
      }
    });
  createInterface({ input: proc.stderr! }).on('line', (line) => push(`[stderr] ${line}`));

  let running = true;
  const exited = new Promise<number | null>((resolve) => {
    const finish = (code: number | null, why: string): void => {
      if (!running) return;
      running = false;
      live.delete(proc);
      for (const w of waiters) w.reject(new Error(`${name} ${why} before the expected output\n${tailBuf.join('\n')}`));
      waiters.clear();
      resolve(code);
    };
    proc.on('exit', (code, signal) => finish(code, `exited (code ${code}, signal ${signal})`));
    proc.on('error', (err) => finish(null, `failed to start: ${err.message}`));
  });

  const child: Child = {
    name,
    pid: proc.pid ?? -1,
    exited,
    isRunning: () => running,
    tail: () => tailBuf.join('\n'),
    waitForLine(match, timeoutMs) {
      if (!running) return Promise.reject(new Error(`${name} is not running\n${tailBuf.join('\n')}`));
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`${name}: no expected output within ${timeoutMs} ms\n${tailBuf.join('\n')}`));
        }, timeoutMs);
        const w: Waiter = {
          match,
          resolve: (l) => (clearTimeout(timer), resolve(l)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        };
        waiters.add(w);
      });
    },
    writeLine(line) {
      proc.stdin?.write(`${line}\n`);
    },
    stop: () => stopProcess(proc, exited),
  };
  return child;
}

async function stopProcess(proc: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null || !live.has(proc)) return;
  proc.kill('SIGTERM');
  // A child that ignores SIGTERM gets SIGKILL after a grace period.
  const graceful = await Promise.race([exited.then(() => true), sleep(2000).then(() => false)]);
  if (!graceful) {
    proc.kill('SIGKILL');
    await Promise.race([exited, sleep(2000)]);
  }
}

/** Runs a command to completion (tracked like any child); one still running after timeoutMs is stopped. */
export async function runCommand(
  name: string,
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string[]; output: string }> {
  const proc = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  const stdout: string[] = [];
  const all: string[] = [];
  createInterface({ input: proc.stdout! }).on('line', (l) => (stdout.push(l), all.push(l)));
  createInterface({ input: proc.stderr! }).on('line', (l) => all.push(l));
  const exited = new Promise<number | null>((resolve) => {
    proc.on('exit', (code) => (live.delete(proc), resolve(code)));
    proc.on('error', (err) => (live.delete(proc), all.push(err.message), resolve(null)));
  });
  const timer = setTimeout(() => {
    all.push(`${name}: stopped after ${timeoutMs} ms`);
    void stopProcess(proc, exited);
  }, timeoutMs);
  const code = await exited;
  clearTimeout(timer);
  // readline may still hold the last buffered line for one tick after 'exit'.
  await sleep(20);
  return { code, stdout, output: all.join('\n') };
}

export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => stopProcess(p, new Promise((r) => p.once('exit', r)))));
}

let hooksInstalled = false;
/** Last-resort cleanup: SIGKILL whatever is still alive when this process goes away. */
export function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const p of live) p.kill('SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      process.stderr.write(`\n${sig}: stopping child processes\n`);
      void stopAll().finally(() => process.exit(130));
    });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A currently free TCP port on 127.0.0.1 (for children that need the port up front). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}
