// The Lambda bundles as the stack builds them (lib/constructs/gateway-function.ts: same esbuild
// settings, same loader), and a stand-in for what the Lambda Node.js runtime puts beside them:
// a node_modules holding the AWS SDK's @aws-sdk/* packages with exactly the dependency tree
// those packages declare, found by Node through NODE_PATH as in the runtime
// (/var/runtime/node_modules). Nothing else of the project's node_modules is reachable from there.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { BUNDLE_FILE, BUNDLE_LOADER, BUNDLE_SUPPORTED, BUNDLE_TARGET, PROJECT_ROOT, RUNTIME_PROVIDED_MODULES } from '../../lib/constructs/gateway-function';

export interface BuiltFunction {
  /** The directory Lambda would unpack the asset into (LAMBDA_TASK_ROOT): index.js, gateway.js, its map. */
  dir: string;
  /** Size of gateway.js in bytes. */
  bytes: number;
  /** Packages from node_modules that ended up inside the bundle. */
  bundledPackages: string[];
}

export interface BuildOptions {
  /** Packages left out beside the runtime's (the stack leaves ioredis out of chat without Redis). */
  extraExternals?: string[];
  /** Bundle the AWS SDK too (measured in the bench; the stack takes it from the runtime). */
  bundleSdk?: boolean;
}

/** esbuild with the stack's settings: CommonJS, minified, linked source map, behind index.js. */
export async function buildFunction(entry: string, outDir: string, opts: BuildOptions = {}): Promise<BuiltFunction> {
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, BUNDLE_FILE);
  const result = await build({
    entryPoints: [path.join(PROJECT_ROOT, entry)],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: BUNDLE_TARGET,
    minify: true,
    sourcemap: 'linked',
    sourcesContent: false,
    external: [...(opts.bundleSdk ? [] : RUNTIME_PROVIDED_MODULES), ...(opts.extraExternals ?? [])],
    supported: BUNDLE_SUPPORTED,
    metafile: true,
    logLevel: 'warning',
  });
  writeFileSync(path.join(outDir, 'index.js'), BUNDLE_LOADER);
  const packages = new Set<string>();
  for (const input of Object.keys(result.metafile.inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
    if (m?.[1]) packages.add(m[1]);
  }
  return { dir: outDir, bytes: statSync(file).size, bundledPackages: [...packages].sort() };
}

interface PackageJson {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** Where Node would find `name` when required from inside the package at `fromDir`. */
function resolvePackageDir(name: string, fromDir: string, rootModules: string): string | undefined {
  let dir = fromDir;
  for (;;) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(rootModules) === dir) return undefined;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Copies every @aws-sdk/* package of the project and, transitively, what each declares in its
 * dependencies into `dest`/node_modules, at the same relative places (nested copies stay nested).
 * Returns that node_modules directory, for NODE_PATH.
 */
export function copyRuntimeModules(dest: string): string {
  const rootModules = realpathSync(path.join(PROJECT_ROOT, 'node_modules'));
  const target = path.join(dest, 'node_modules');
  const queue = readdirSync(path.join(rootModules, '@aws-sdk')).map((name) => path.join(rootModules, '@aws-sdk', name));
  const seen = new Set<string>();
  while (queue.length > 0) {
    const dir = queue.shift() as string;
    if (seen.has(dir)) continue;
    seen.add(dir);
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson;
    for (const name of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
      const found = resolvePackageDir(name, dir, rootModules);
      if (found) queue.push(found);
      else if (!pkg.optionalDependencies?.[name]) throw new Error(`${path.relative(rootModules, dir)} declares ${name}, which is not installed`);
    }
  }
  for (const dir of seen) {
    // A package's own nested node_modules are copied as packages of their own, only if declared.
    cpSync(dir, path.join(target, path.relative(rootModules, dir)), {
      recursive: true,
      filter: (src) => !path.relative(dir, src).split(path.sep).includes('node_modules'),
    });
  }
  return target;
}

/**
 * Runs in a fresh Node process: stands in for the runtime around one invocation (the streaming
 * globals, a context, an X-Ray trace header for the invocation), imports the task root's index.js
 * as the runtime does, invokes the handler once and prints the outcome on a marked line. A
 * function URL handler's response is its prelude (status, headers) and its body.
 */
const INVOKER = `'use strict';
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { Writable } = require('node:stream');
const [taskRoot, eventJson] = process.argv.slice(2);
globalThis.awslambda = {
  streamifyResponse: (handler) => Object.assign(handler, { streamsResponse: true }),
  HttpResponseStream: { from: (stream, prelude) => Object.assign(stream, { prelude }) },
};
const report = (kind, value) => process.stdout.write('\\n' + kind + ' ' + JSON.stringify(value) + '\\n');
(async () => {
  const { handler } = await import(pathToFileURL(path.join(taskRoot, 'index.js')).href);
  const context = {
    awsRequestId: 'c0ffee00-0000-4000-8000-000000000001',
    functionName: 'bundle-under-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:bundle-under-test',
    memoryLimitInMB: '1024',
    logGroupName: '/aws/lambda/bundle-under-test',
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 60000,
  };
  process.env._X_AMZN_TRACE_ID = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
  const event = JSON.parse(eventJson);
  if (handler.streamsResponse) {
    const chunks = [];
    const stream = new Writable({ write(chunk, _encoding, done) { chunks.push(Buffer.from(chunk)); done(); } });
    await handler(event, stream, context);
    report('INVOCATION_RESULT', { prelude: stream.prelude, body: Buffer.concat(chunks).toString('utf8'), ended: stream.writableFinished });
  } else {
    report('INVOCATION_RESULT', await handler(event, context));
  }
  process.exit(0);
})().catch((err) => {
  report('INVOCATION_ERROR', String((err && err.stack) || err));
  process.exit(1);
});
`;

export interface Invocation {
  /** The handler's answer (for a streaming handler: { prelude, body, ended }); undefined if it failed. */
  result: unknown;
  /** Everything the process printed (logs, EMF lines, errors). */
  output: string;
  exitCode: number | null;
}

/** Invokes the bundle in `taskRoot` once, in a process whose only packages are those on `nodePath`. */
export async function invokeBundle(o: { taskRoot: string; nodePath: string; env: Record<string, string>; event: unknown; node?: string }): Promise<Invocation> {
  const invoker = path.join(path.dirname(o.taskRoot), 'invoke.cjs');
  if (!existsSync(invoker)) writeFileSync(invoker, INVOKER);
  const child = spawn(o.node ?? process.execPath, [invoker, o.taskRoot, JSON.stringify(o.event)], {
    cwd: o.taskRoot,
    // Nothing of the test process's environment: only what the function's own would hold.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_PATH: o.nodePath, LAMBDA_TASK_ROOT: o.taskRoot, ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
  // A handler that never settles would keep the process alive: the invocation's timeout ends it.
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  const line = output.split('\n').find((l) => l.startsWith('INVOCATION_RESULT '));
  return { result: line ? JSON.parse(line.slice('INVOCATION_RESULT '.length)) : undefined, output, exitCode };
}
