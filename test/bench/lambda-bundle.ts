// The chat Lambda's bundle and cold init (BENCH_SECTIONS=lambda).
//   size       the bundle built as the stack builds it (test/helpers/lambda-bundles.ts: CommonJS,
//              node24, minified, linked source map, only @aws-sdk/* left to the runtime, ioredis
//              left out), in KB; and the same with the AWS SDK bundled too, the alternative measured.
//   cold init  in a fresh Node 24 process beside only the runtime's packages (the SDK's own tree on
//              NODE_PATH, as in Lambda): the time to import the bundle and to finish its init (the
//              first invocation's wait for the gateway setup), measured in-process around the
//              import, so Node's own start-up is not counted; with the CPU time it took, which a
//              busy machine inflates less. Median of N processes.
//   runtime    the same bundle under AWS's runtime interface client (aws-lambda-ric) against the
//   client     Runtime API emulator: spawn → the first /next (Lambda's "Init Duration", Node and
//              the client's own start included) and spawn → the first invocation answered.
// Each in-process run also reports which AWS SDK clients it loaded and every network connection it
// tried (non-loopback ones are refused): init must not call AWS, except the provider-keys read.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildFunction, copyRuntimeModules, type BuiltFunction } from '../helpers/lambda-bundles';
import { startRuntimeApi } from '../helpers/lambda-runtime-api';
import { runtimeClientInstall, startRuntimeClient } from '../helpers/lambda-runtime-client';
import { runCommand } from './children';
import { median, round } from './stats';
import { warn } from './warnings';

export const TARGETS = { bundleKb: 500, coldInitMs: 100 } as const;

export interface BundleInfo {
  kb: number;
  /** True if any @aws-sdk source was bundled rather than left to the runtime. */
  sdkBundled: boolean;
  /** Packages from node_modules inside the bundle. */
  packages: string[];
}

/** As deployed (the runtime's SDK), or with the SDK bundled too: measured to decide between them. */
export type Packaging = 'runtime-sdk' | 'bundled-sdk';

function bundleInfo(b: BuiltFunction): BundleInfo {
  return { kb: round(b.bytes / 1024, 1), sdkBundled: b.bundledPackages.some((p) => p.startsWith('@aws-sdk/')), packages: b.bundledPackages };
}

/** The Lambda context and the event of the runner's one invocation, as JavaScript source. */
const RUNNER_CONTEXT =
  "{ awsRequestId: 'bench-cold-init', functionName: 'chat', functionVersion: '$LATEST', memoryLimitInMB: '1024', " +
  "invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:chat' }";
const RUNNER_EVENT = "{ rawPath: '/bench-cold-init', rawQueryString: '', headers: {}, requestContext: { http: { method: 'GET' } }, isBase64Encoded: false }";

/**
 * Runs in each fresh process: guards the network, provides the runtime's streaming globals,
 * imports the bundle and invokes it once on a path that needs no provider (the invocation waits
 * for the gateway setup), then reports. Plain JS, so no TypeScript loader is timed.
 */
const RUNNER = `
import { performance } from 'node:perf_hooks';
import net from 'node:net';
import { Writable } from 'node:stream';
import { createRequire } from 'node:module';
const connects = [];
const loopback = (h) => h === undefined || h === 'localhost' || h === '127.0.0.1' || h === '::1';
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  // http calls connect with its normalized [options, callback] pair.
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const o = typeof first === 'object' && first !== null ? first : { port: first, host: typeof args[1] === 'string' ? args[1] : undefined };
  connects.push(String(o.host ?? 'localhost') + ':' + String(o.port ?? o.path));
  if (!loopback(o.host)) { process.nextTick(() => this.destroy(new Error('bench: network call refused'))); return this; }
  return connect.apply(this, args);
};
globalThis.awslambda = { streamifyResponse: (h) => h, HttpResponseStream: { from: (s) => s } };
const c0 = process.cpuUsage();
const t0 = performance.now();
const imported = await import(process.argv[2]);
const importMs = performance.now() - t0;
const mod = imported.handler ? imported : imported.default;
const sink = new Writable({ write(_c, _e, cb) { cb(); } });
const context = ${RUNNER_CONTEXT};
await mod.handler(${RUNNER_EVENT}, sink, context);
const readyMs = performance.now() - t0;
const cpu = process.cpuUsage(c0);
const cpuMs = (cpu.user + cpu.system) / 1000;
const sdk = new Set();
for (const key of Object.keys(createRequire(import.meta.url).cache)) {
  const m = /node_modules\\/(@aws-sdk\\/(?:client|lib)-[^/]+)/.exec(key);
  if (m) sdk.add(m[1]);
}
process.stdout.write('\\nBENCH_LAMBDA ' + JSON.stringify({ importMs, readyMs, cpuMs, sdkClients: [...sdk].sort(), connects }) + '\\n');
process.exit(0);
`;

interface Variant {
  name: string;
  env: Record<string, string>;
  /** Serve the provider-keys secret from a local Secrets Manager stand-in. */
  secret?: boolean;
}

const DEPLOYED_ENV: Record<string, string> = {
  // What the stack sets (lib/constructs/chat-api.ts), pointing at tables and a queue that need not exist:
  // nothing may call them during init.
  DEFAULT_TENANT_ENABLED: 'false',
  TENANTS_TABLE: 'bench-tenants',
  STATE_TABLE: 'bench-state',
  USAGE_TABLE: 'bench-usage',
  USAGE_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/bench-usage',
  DEFAULT_PROVIDER: 'openai',
  POWERTOOLS_SERVICE_NAME: 'ai-gateway-chat',
  POWERTOOLS_METRICS_NAMESPACE: 'AiGateway',
  // As inside Lambda with active tracing: the Powertools Tracer (X-Ray SDK) loads.
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
  // The stack's (lib/settings.ts): stack traces in the logs point at the sources.
  NODE_OPTIONS: '--enable-source-maps',
};

const WITH_SECRET: Variant = {
  name: 'deployed env + provider secret',
  env: { ...DEPLOYED_ENV, PROVIDER_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bench-provider-keys-AbCdEf' },
  secret: true,
};

const VARIANTS: Variant[] = [
  { name: 'memory default (no AWS settings)', env: {} },
  { name: 'deployed env, no secret', env: DEPLOYED_ENV },
  WITH_SECRET,
  // What --enable-source-maps costs at init (Node parses the bundle's map when it loads it).
  { ...WITH_SECRET, name: 'deployed + secret, no source maps', env: { ...WITH_SECRET.env, NODE_OPTIONS: '' } },
];

export interface ColdInitRow {
  packaging: Packaging;
  variant: string;
  importMs: number;
  readyMs: number;
  cpuMs: number;
  sdkClients: string[];
  connects: string[];
  runs: number;
}

export interface RuntimeClientRow {
  variant: string;
  /** Spawn → the runtime's first /next: init done (Lambda's Init Duration, Node's start included). */
  initMs: number;
  /** Spawn → the first invocation answered (it waits for the gateway setup). */
  firstResponseMs: number;
  runs: number;
}

export interface LambdaResult {
  /** As the stack builds it: the AWS SDK from the runtime. */
  bundle: BundleInfo;
  /** The same code with the AWS SDK bundled too, for the comparison. */
  sdkBundle: BundleInfo;
  coldInit: ColdInitRow[];
  runtimeClient: RuntimeClientRow[];
  targets: typeof TARGETS;
  node: string;
}

/** A stand-in for Secrets Manager's GetSecretValue on 127.0.0.1 (the JSON 1.1 protocol the SDK speaks). */
async function startSecretStandIn(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const ok = req.headers['x-amz-target'] === 'secretsmanager.GetSecretValue';
      res.writeHead(ok ? 200 : 400, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify(
          ok
            ? {
                ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bench-provider-keys-AbCdEf',
                Name: 'bench-provider-keys',
                VersionId: 'v1',
                SecretString: JSON.stringify({ OPENAI_API_KEY: 'sk-bench-placeholder', ANTHROPIC_API_KEY: '' }),
                CreatedDate: 1.7e9,
              }
            : { __type: 'UnknownOperationException', message: 'bench stand-in' },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** The environment of every run: credentials and region as Lambda gives them, the secret's stand-in. */
function runEnv(v: Variant, nodePath: string, standIn: string | undefined): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    NODE_PATH: nodePath,
    LOG_LEVEL: 'warn',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...v.env,
    ...(standIn ? { AWS_ENDPOINT_URL_SECRETS_MANAGER: standIn } : {}),
  };
}

async function withStandIn<T>(v: Variant, fn: (url: string | undefined) => Promise<T>): Promise<T> {
  const standIn = v.secret ? await startSecretStandIn() : undefined;
  try {
    return await fn(standIn?.url);
  } finally {
    standIn?.server.close();
  }
}

/** One run under the runtime client: spawn, wait for its first /next, invoke once, stop it. */
async function runtimeClientRun(o: {
  node: string;
  ric: string;
  taskRoot: string;
  env: Record<string, string>;
}): Promise<{ initMs: number; firstResponseMs: number }> {
  let initAt = 0;
  const api = await startRuntimeApi({ onNext: (nth) => void (nth === 1 ? (initAt = performance.now()) : undefined) });
  const t0 = performance.now();
  const client = startRuntimeClient({ node: o.node, ric: o.ric, taskRoot: o.taskRoot, nodePath: o.env.NODE_PATH ?? '', runtimeApi: api.address, env: o.env });
  try {
    const outcome = await Promise.race([
      api.invoke({
        version: '2.0',
        rawPath: '/bench-cold-init',
        rawQueryString: '',
        headers: {},
        requestContext: { http: { method: 'GET' } },
        isBase64Encoded: false,
      }),
      client.exited.then((code) => {
        throw new Error(`runtime client exited (${code}) before answering:\n${client.output().slice(-2000)}`);
      }),
    ]);
    const firstResponseMs = performance.now() - t0;
    if (outcome.kind === 'error') throw new Error(`runtime client run failed: ${JSON.stringify(outcome.error)}`);
    return { initMs: initAt - t0, firstResponseMs };
  } finally {
    await client.stop();
    await api.close();
  }
}

export async function runLambdaBundle(o: { root: string; outDir: string; runs: number }): Promise<LambdaResult> {
  const dir = path.join(o.outDir, 'lambda');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const runner = path.join(dir, 'cold-init.mjs');
  writeFileSync(runner, RUNNER);
  const install = runtimeClientInstall();
  const runtimeModules = copyRuntimeModules(path.join(dir, 'runtime'));
  const entry = 'functions/chat/handler.ts';
  const built: Record<Packaging, BuiltFunction> = {
    'runtime-sdk': await buildFunction(entry, path.join(dir, 'runtime-sdk'), { extraExternals: ['ioredis'] }),
    'bundled-sdk': await buildFunction(entry, path.join(dir, 'bundled-sdk'), { extraExternals: ['ioredis'], bundleSdk: true }),
  };
  // With the SDK bundled, nothing may come from the runtime's packages.
  const nodePathOf = (p: Packaging): string => (p === 'runtime-sdk' ? runtimeModules : path.join(dir, 'no-packages'));
  for (const [packaging, b] of Object.entries(built)) console.log(`lambda section: chat bundle (${packaging}) ${round(b.bytes / 1024, 1)} KB`);

  const coldInit: ColdInitRow[] = [];
  for (const v of VARIANTS) {
    await withStandIn(v, async (standIn) => {
      const samples: Record<Packaging, Array<Omit<ColdInitRow, 'packaging' | 'variant' | 'runs'>>> = { 'runtime-sdk': [], 'bundled-sdk': [] };
      // Interleaved, so that a busy moment of a shared machine weighs on both alike.
      for (let i = 0; i < o.runs; i++) {
        for (const packaging of Object.keys(built) as Packaging[]) {
          const r = await runCommand(
            'cold-init',
            install.node24,
            [runner, path.join(built[packaging].dir, 'index.js')],
            runEnv(v, nodePathOf(packaging), standIn),
            30_000,
          );
          const line = r.stdout.find((l) => l.startsWith('BENCH_LAMBDA '));
          if (r.code !== 0 || !line) throw new Error(`cold init run failed (${packaging}, ${v.name}, exit ${r.code})\n${r.output.slice(-2000)}`);
          samples[packaging].push(JSON.parse(line.slice('BENCH_LAMBDA '.length)) as (typeof samples)[Packaging][number]);
        }
      }
      for (const [packaging, list] of Object.entries(samples) as Array<[Packaging, (typeof samples)[Packaging]]>) {
        const row: ColdInitRow = {
          packaging,
          variant: v.name,
          importMs: round(median(list.map((s) => s.importMs)), 1),
          readyMs: round(median(list.map((s) => s.readyMs)), 1),
          cpuMs: round(median(list.map((s) => s.cpuMs)), 1),
          sdkClients: list[0]?.sdkClients ?? [],
          connects: [...new Set(list.flatMap((s) => s.connects))],
          runs: list.length,
        };
        coldInit.push(row);
        const outside = row.connects.filter((c) => !/^(127\.0\.0\.1|localhost|::1):/.test(c));
        if (outside.length > 0) warn(`lambda cold init (${packaging}, ${v.name}) tried to reach ${outside.join(', ')}`);
      }
    });
  }

  const runtimeClient: RuntimeClientRow[] = [];
  for (const v of [VARIANTS[0] as Variant, WITH_SECRET]) {
    await withStandIn(v, async (standIn) => {
      const list: Array<{ initMs: number; firstResponseMs: number }> = [];
      for (let i = 0; i < o.runs; i++) {
        list.push(
          await runtimeClientRun({ node: install.node24, ric: install.ric, taskRoot: built['runtime-sdk'].dir, env: runEnv(v, runtimeModules, standIn) }),
        );
      }
      runtimeClient.push({
        variant: v.name,
        initMs: round(median(list.map((s) => s.initMs)), 1),
        firstResponseMs: round(median(list.map((s) => s.firstResponseMs)), 1),
        runs: list.length,
      });
    });
  }

  const bundle = bundleInfo(built['runtime-sdk']);
  if (bundle.kb > TARGETS.bundleKb) warn(`chat bundle ${bundle.kb} KB is over the ${TARGETS.bundleKb} KB target`);
  if (bundle.sdkBundled) warn('the chat bundle contains AWS SDK code; it should come from the runtime');
  for (const row of coldInit) {
    if (row.packaging === 'runtime-sdk' && row.readyMs > TARGETS.coldInitMs)
      warn(`chat cold init (${row.variant}) ${row.readyMs} ms is over the ${TARGETS.coldInitMs} ms target`);
  }
  return {
    bundle,
    sdkBundle: bundleInfo(built['bundled-sdk']),
    coldInit,
    runtimeClient,
    targets: TARGETS,
    node: path.basename(path.dirname(path.dirname(install.node24))),
  };
}

export function formatLambdaTable(r: LambdaResult): string {
  const lines = [
    `Chat Lambda bundle (as the stack builds it): ${r.bundle.kb} KB minified (target <= ${r.targets.bundleKb} KB), ` +
      `AWS SDK ${r.bundle.sdkBundled ? 'bundled' : 'from the runtime'}; with the SDK bundled too: ${r.sdkBundle.kb} KB`,
    `  packages inside: ${r.bundle.packages.join(', ')}`,
    `Cold init = import + init until the first invocation is served, in process (median of ${r.coldInit[0]?.runs ?? 0} fresh processes, ` +
      `${r.node}; target <= ${r.targets.coldInitMs} ms):`,
    `  ${'packaging'.padEnd(12)} ${'variant'.padEnd(34)} ${'import ms'.padStart(10)} ${'init ms'.padStart(9)} ${'cpu ms'.padStart(8)}  SDK clients loaded | connections tried at init`,
  ];
  for (const row of r.coldInit) {
    lines.push(
      `  ${row.packaging.padEnd(12)} ${row.variant.padEnd(34)} ${String(row.importMs).padStart(10)} ${String(row.readyMs).padStart(9)} ${String(row.cpuMs).padStart(8)}  ` +
        `${row.sdkClients.map((c) => c.replace('@aws-sdk/', '')).join(', ') || 'none'} | ${row.connects.join(', ') || 'none'}`,
    );
  }
  lines.push(`Under the runtime client (aws-lambda-ric, Runtime API emulator; spawn included; median of ${r.runtimeClient[0]?.runs ?? 0}):`);
  lines.push(`  ${'variant'.padEnd(34)} ${'init ms'.padStart(9)} ${'first answer ms'.padStart(16)}`);
  for (const row of r.runtimeClient) lines.push(`  ${row.variant.padEnd(34)} ${String(row.initMs).padStart(9)} ${String(row.firstResponseMs).padStart(16)}`);
  return lines.join('\n');
}
