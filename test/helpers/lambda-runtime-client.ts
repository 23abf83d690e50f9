// AWS's runtime interface client (aws-lambda-ric, what the AWS Node.js images run) around a
// bundle, as a child process on Node 24 (or 22) from the cache test/setup/ensure-lambda-ric.sh
// fills (outside the repository; `npm test` runs it first, and it returns at once once cached).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../../lib/constructs/gateway-function';

export interface RuntimeClientInstall {
  node22: string;
  node24: string;
  /** aws-lambda-ric's entry (index.mjs). */
  ric: string;
}

/** The cached Node binaries and runtime client, installing them first if they are missing. */
export function runtimeClientInstall(): RuntimeClientInstall {
  const out = execFileSync('bash', [path.join(PROJECT_ROOT, 'test', 'setup', 'ensure-lambda-ric.sh')], { encoding: 'utf8', timeout: 900_000 });
  const value = (key: string): string => {
    const line = out.split('\n').find((l) => l.startsWith(`${key}=`));
    if (!line) throw new Error(`ensure-lambda-ric.sh printed no ${key}:\n${out}`);
    return line.slice(key.length + 1);
  };
  return { node22: value('NODE22'), node24: value('NODE24'), ric: value('RIC') };
}

export interface RunningRuntimeClient {
  child: ChildProcess;
  /** Everything the function printed so far (its logs go to stdout/stderr, as in Lambda). */
  output(): string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export interface RuntimeClientOptions {
  node: string;
  ric: string;
  /** LAMBDA_TASK_ROOT: the unpacked asset (index.js + gateway.js). */
  taskRoot: string;
  /** The runtime's own packages (NODE_PATH). */
  nodePath: string;
  /** host:port of the Runtime API. */
  runtimeApi: string;
  /** The function's environment. */
  env: Record<string, string>;
}

export function startRuntimeClient(o: RuntimeClientOptions): RunningRuntimeClient {
  const child = spawn(o.node, [o.ric], {
    cwd: o.taskRoot,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      // What Lambda sets for every function.
      AWS_LAMBDA_RUNTIME_API: o.runtimeApi,
      LAMBDA_TASK_ROOT: o.taskRoot,
      _HANDLER: 'index.handler',
      NODE_PATH: o.nodePath,
      AWS_LAMBDA_FUNCTION_NAME: 'under-test',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/under-test',
      AWS_LAMBDA_LOG_STREAM_NAME: 'local',
      TZ: ':UTC',
      ...o.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
