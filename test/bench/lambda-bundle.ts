// The chat Lambda's bundle and cold init (BENCH_SECTIONS=lambda).
//   size       the bundle built as the stack builds it (esbuild: ESM, node22, minified, linked
//              source map, @aws-sdk/* and @smithy/* taken from the runtime, ioredis left out), in KB,
//              and whether any AWS SDK code ended up inside it.
//   cold init  in a fresh node process: the time to import the built bundle, and to finish its
//              init (the first invocation's wait for the gateway setup), measured in-process around
//              the dynamic import, so Node's own start-up is not counted. Median of N processes.
// Each process also reports which AWS SDK clients it loaded and every network connection it
// tried (non-loopback ones are refused): init must not call AWS, except the provider-keys read.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { runCommand } from './children';
import { median, round } from './stats';
import { warn } from './warnings';

/** The stack's esbuild settings for the chat function (lib/constructs/gateway-function.ts, chat-api.ts). */
const EXTERNALS = ['@aws-sdk/*', '@smithy/*', 'ioredis'];
const BANNER = "import { createRequire } from 'module';const require = createRequire(import.meta.url);";

export const TARGETS = { bundleKb: 500, coldInitMs: 100 } as const;

export interface BundleInfo {
  file: string;
  bytes: number;
  mapBytes: number;
  /** True if any @aws-sdk / @smithy source was bundled rather than left to the runtime. */
  sdkBundled: boolean;
  /** The largest contributors to the minified output, by package or directory. */
  largest: Array<{ name: string; kb: number }>;
}

/**
 * CJS is how the stack builds it. ESM is measured beside it, for the record: in one ESM file
 * esbuild must hoist every external import to the top, so SDK clients behind lazy imports
 * (Bedrock, SNS) load at init anyway; CJS keeps those requires where they are.
 */
export type BundleFormat = 'esm' | 'cjs';

export async function buildChatBundle(root: string, outDir: string, format: BundleFormat = 'cjs'): Promise<BundleInfo> {
  // CJS as the stack ships it: the bundle in gateway.js behind a three-line index.js loader.
  const file = path.join(outDir, `chat-${format}`, format === 'esm' ? 'index.mjs' : 'gateway.js');
  const result = await build({
    entryPoints: [path.join(root, 'functions', 'chat', 'handler.ts')],
    outfile: file,
    bundle: true,
    platform: 'node',
    format,
    target: 'node22',
    minify: true,
    sourcemap: 'linked',
    sourcesContent: false,
    ...(format === 'esm' ? { banner: { js: BANNER } } : {}),
    external: EXTERNALS,
    // NodejsFunction's choices: for ESM output prefer packages' ESM entry points.
    ...(format === 'esm' ? { mainFields: ['module', 'main'] } : {}),
    metafile: true,
    logLevel: 'warning',
  });
  const output = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined);
  const byPackage = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
    const name = m ? m[1]! : input.split('/').slice(0, 2).join('/');
    byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
  }
  const inputs = Object.keys(output?.inputs ?? {});
  let entry = file;
  if (format === 'cjs') {
    entry = path.join(path.dirname(file), 'index.js');
    writeFileSync(entry, '"use strict";\nconst gateway = require("./gateway.js");\nexports.handler = gateway.handler;\n');
  }
  return {
    file: entry,
    bytes: statSync(file).size, // the bundle (the loader adds 80 bytes)
    mapBytes: statSync(`${file}.map`).size,
    sdkBundled: inputs.some((i) => /node_modules\/@(aws-sdk|smithy)\//.test(i)),
    largest: [...byPackage]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 6)
      .map(([name, bytes]) => ({ name, kb: round(bytes / 1024, 1) })),
  };
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
const t0 = performance.now();
const imported = await import(process.argv[2]);
const importMs = performance.now() - t0;
const mod = imported.handler ? imported : imported.default;
const sink = new Writable({ write(_c, _e, cb) { cb(); } });
const context = ${RUNNER_CONTEXT};
await mod.handler(${RUNNER_EVENT}, sink, context);
const readyMs = performance.now() - t0;
const sdk = new Set();
for (const key of Object.keys(createRequire(import.meta.url).cache)) {
  const m = /node_modules\\/(@aws-sdk\\/(?:client|lib)-[^/]+)/.exec(key);
  if (m) sdk.add(m[1]);
}
process.stdout.write('\\nBENCH_LAMBDA ' + JSON.stringify({ importMs, readyMs, sdkClients: [...sdk].sort(), connects }) + '\\n');
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
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
};

const VARIANTS: Variant[] = [
  { name: 'memory default (no AWS settings)', env: {} },
  { name: 'deployed env, no secret', env: DEPLOYED_ENV },
  {
    name: 'deployed env + provider secret',
    env: { ...DEPLOYED_ENV, PROVIDER_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bench-provider-keys-AbCdEf' },
    secret: true,
  },
];

export interface ColdInitRow {
  format: BundleFormat;
  variant: string;
  importMs: number;
  readyMs: number;
  sdkClients: string[];
  connects: string[];
  runs: number;
}

export interface LambdaResult {
  /** As the stack builds it (ESM). */
  bundle: BundleInfo & { kb: number };
  /** The same code as CJS, for comparison. */
  esmBundle: BundleInfo & { kb: number };
  coldInit: ColdInitRow[];
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

export async function runLambdaBundle(o: { root: string; outDir: string; runs: number }): Promise<LambdaResult> {
  const dir = path.join(o.outDir, 'lambda');
  mkdirSync(dir, { recursive: true });
  const runner = path.join(dir, 'cold-init.mjs');
  writeFileSync(runner, RUNNER);
  const bundles = { esm: await buildChatBundle(o.root, dir, 'esm'), cjs: await buildChatBundle(o.root, dir, 'cjs') };
  const kbOf = (b: BundleInfo): number => round(b.bytes / 1024, 1);
  for (const [format, b] of Object.entries(bundles)) {
    console.log(
      `lambda section: chat bundle (${format}) ${kbOf(b)} KB (+ ${round(b.mapBytes / 1024, 1)} KB map), ` +
        `AWS SDK ${b.sdkBundled ? 'BUNDLED' : 'from the runtime'}`,
    );
  }

  const coldInit: ColdInitRow[] = [];
  for (const v of VARIANTS) {
    const standIn = v.secret ? await startSecretStandIn() : undefined;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOG_LEVEL: 'warn',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...v.env,
      ...(standIn ? { AWS_ENDPOINT_URL_SECRETS_MANAGER: standIn.url } : {}),
    };
    try {
      for (const format of ['esm', 'cjs'] as const) {
        const samples: Array<{ importMs: number; readyMs: number; sdkClients: string[]; connects: string[] }> = [];
        for (let i = 0; i < o.runs; i++) {
          const r = await runCommand('cold-init', process.execPath, [runner, bundles[format].file], env, 30_000);
          const line = r.stdout.find((l) => l.startsWith('BENCH_LAMBDA '));
          if (r.code !== 0 || !line) throw new Error(`cold init run failed (${format}, ${v.name}, exit ${r.code})\n${r.output.slice(-2000)}`);
          samples.push(JSON.parse(line.slice('BENCH_LAMBDA '.length)) as (typeof samples)[number]);
        }
        const row: ColdInitRow = {
          format,
          variant: v.name,
          importMs: round(median(samples.map((s) => s.importMs)), 1),
          readyMs: round(median(samples.map((s) => s.readyMs)), 1),
          sdkClients: samples[0]?.sdkClients ?? [],
          connects: [...new Set(samples.flatMap((s) => s.connects))],
          runs: samples.length,
        };
        coldInit.push(row);
        const outside = row.connects.filter((c) => !/^(127\.0\.0\.1|localhost|::1):/.test(c));
        if (outside.length > 0) warn(`lambda cold init (${format}, ${v.name}) tried to reach ${outside.join(', ')}`);
      }
    } finally {
      standIn?.server.close();
    }
  }
  const cjsKb = kbOf(bundles.cjs);
  if (cjsKb > TARGETS.bundleKb) warn(`chat bundle ${cjsKb} KB is over the ${TARGETS.bundleKb} KB target`);
  if (bundles.cjs.sdkBundled) warn('the chat bundle contains AWS SDK code; it should come from the runtime');
  for (const row of coldInit) {
    if (row.format === 'cjs' && row.readyMs > TARGETS.coldInitMs)
      warn(`chat cold init (${row.variant}) ${row.readyMs} ms is over the ${TARGETS.coldInitMs} ms target`);
  }
  return { bundle: { ...bundles.cjs, kb: cjsKb }, esmBundle: { ...bundles.esm, kb: kbOf(bundles.esm) }, coldInit, targets: TARGETS, node: process.version };
}

export function formatLambdaTable(r: LambdaResult): string {
  const lines = [
    `Chat Lambda bundle (CJS, as the stack builds it): ${r.bundle.kb} KB minified (target <= ${r.targets.bundleKb} KB), ` +
      `AWS SDK ${r.bundle.sdkBundled ? 'bundled' : 'not bundled (from the runtime)'}; as ESM: ${r.esmBundle.kb} KB`,
    `  largest parts: ${r.bundle.largest.map((p) => `${p.name} ${p.kb} KB`).join(', ')}`,
    `Cold init = import + init until the first invocation is served (median of ${r.coldInit[0]?.runs ?? 0} fresh processes, ` +
      `node ${r.node}; target <= ${r.targets.coldInitMs} ms):`,
    `  ${'format'.padEnd(6)} ${'variant'.padEnd(34)} ${'import ms'.padStart(10)} ${'init ms'.padStart(9)}  SDK clients loaded | connections tried at init`,
  ];
  for (const row of r.coldInit) {
    lines.push(
      `  ${row.format.padEnd(6)} ${row.variant.padEnd(34)} ${String(row.importMs).padStart(10)} ${String(row.readyMs).padStart(9)}  ` +
        `${row.sdkClients.map((c) => c.replace('@aws-sdk/', '')).join(', ') || 'none'} | ${row.connects.join(', ') || 'none'}`,
    );
  }
  return lines.join('\n');
}
