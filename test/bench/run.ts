// `npm run bench`: direct vs floor (bare proxy) vs gateway, on the same fake upstream and load,
// each in its own process. Env: BENCH_RUNS (default 3), BENCH_DURATION (seconds, default 5),
// BENCH_GATEWAY_ENTRY (default dist/local.mjs; built with `npm run build` if missing).
// Prints a table of medians and writes .bench/results.json.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build, stop as stopEsbuild } from 'esbuild';
import { type Child, installExitHooks, runCommand, sleep, startChild, stopAll, freePort } from './children';
import { coldStartOnce } from './cold-start';
import { assertLocal, request } from './http-util';
import { cpuTimeMs, peakRssMb } from './procstat';
import { PATHS, formatTable, target, type LatencySummary, type PathName, type PerPath, type Summary } from './report';
import { median } from './stats';
import { measureStreamTtfb, type StreamRun } from './stream-ttfb';
import { runWrk, type WrkResult } from './wrk';

const ROOT = process.cwd(); // npm run always starts in the package root
const BENCH_DIR = path.join(ROOT, 'test', 'bench');
const OUT_DIR = path.join(ROOT, '.bench');

const GATEWAY_AUTH = 'Bearer gw-default-key';
const UPSTREAM_KEY = 'sk-test';
const CHAT = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hi' }] };
const CHAT_BODY = JSON.stringify(CHAT);
const STREAM_BODY = JSON.stringify({ ...CHAT, stream: true });
const STREAM_CHUNKS = 20;
const STREAM_REQUESTS = 300;
const RATES = [300, 500] as const;
const COLD_STARTS = 5;
const THROUGHPUT_CONNECTIONS = 64;
const PACED_CONNECTIONS = 10;
const WRK_THREADS = 2;

interface Config {
  runs: number;
  durationS: number;
  gatewayEntry: string;
}

interface Endpoint {
  name: PathName;
  chatUrl: string;
  auth: string;
  /** The proxy process whose CPU is charged to this path (none for direct). */
  proc?: Child;
}

interface ThroughputRound {
  wrk: WrkResult;
  cpuMsPerRequest: number;
  upstreamCpuMsPerRequest: number;
}

function intEnv(name: string, def: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer in ${min}..${max}, got "${raw}"`);
  return n;
}

/** A small, explicit environment so the caller's shell (NODE_OPTIONS, provider keys) cannot skew a run. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  for (const k of ['HOME', 'TMPDIR', 'LANG']) if (process.env[k]) env[k] = process.env[k];
  return { ...env, ...extra };
}

/** Rotates the path order each round so no path is always measured first (or last) on a noisy box. */
function order(round: number): PathName[] {
  return PATHS.map((_, i) => PATHS[(i + round) % PATHS.length]!);
}

const warnings: string[] = [];
function warn(msg: string): void {
  warnings.push(msg);
  console.log(`  WARNING: ${msg}`);
}

// ---------------------------------------------------------------- processes

async function startUpstream(): Promise<{ child: Child; url: string }> {
  const child = startChild('upstream', process.execPath, ['--import', 'tsx', path.join(BENCH_DIR, 'upstream-process.ts')], {
    cwd: ROOT,
    env: childEnv({}),
    stdin: true,
  });
  const url = await child.waitForLine((l) => /^http:\/\/127\.0\.0\.1:\d+/.test(l), 30_000);
  assertLocal(url);
  return { child, url: url.trim().replace(/\/+$/, '') };
}

async function setBehaviour(upstream: Child, behaviour: { streamChunks?: number } | null): Promise<void> {
  const reply = upstream.waitForLine((l) => l === 'ok' || l.startsWith('error '), 5000);
  upstream.writeLine(JSON.stringify({ behaviour }));
  const line = await reply;
  if (line !== 'ok') throw new Error(`upstream setBehaviour failed: ${line}`);
}

async function bundleBareProxy(): Promise<string> {
  // Bundled to plain JS so the floor runs on bare `node`, exactly like the gateway's dist bundle.
  const outfile = path.join(OUT_DIR, 'bare-proxy.mjs');
  await build({
    entryPoints: [path.join(BENCH_DIR, 'bare-proxy.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'warning',
  });
  await stopEsbuild();
  return outfile;
}

async function startFloor(bundle: string, upstreamUrl: string): Promise<{ child: Child; port: number }> {
  const origin = new URL(upstreamUrl).origin;
  const child = startChild('floor', process.execPath, [bundle], { env: childEnv({ UPSTREAM_ORIGIN: origin, PORT: '0' }), stdin: true });
  const line = await child.waitForLine((l) => l.startsWith('listening '), 10_000);
  return { child, port: Number(line.split(' ')[1]) };
}

function spawnGateway(cfg: Config, port: number, upstreamUrl: string): Child {
  return startChild('gateway', process.execPath, [cfg.gatewayEntry], {
    cwd: ROOT,
    env: childEnv({ PORT: String(port), OPENAI_BASE_URL: upstreamUrl, OPENAI_API_KEY: UPSTREAM_KEY, LOG_LEVEL: 'error' }),
  });
}

async function waitHealthy(child: Child, baseUrl: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (!child.isRunning()) throw new Error(`${child.name} exited before becoming healthy\n${child.tail()}`);
    try {
      const r = await request(`${baseUrl}/health`, { method: 'GET', timeoutMs: 2000 });
      if (r.status === 200) return;
      last = `status ${r.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(50);
  }
  throw new Error(`${child.name} not healthy within ${timeoutMs} ms (${last})\n${child.tail()}`);
}

async function ensureGatewayBuilt(cfg: Config): Promise<void> {
  if (existsSync(cfg.gatewayEntry)) return;
  console.log(`${path.relative(ROOT, cfg.gatewayEntry)} missing: running npm run build`);
  const r = await runCommand('npm run build', 'npm', ['run', 'build'], process.env, 5 * 60_000);
  if (r.code !== 0 || !existsSync(cfg.gatewayEntry)) throw new Error(`npm run build failed (exit ${r.code}):\n${r.output}`);
}

async function smokeCheck(ep: Endpoint): Promise<void> {
  const r = await request(ep.chatUrl, { method: 'POST', body: CHAT_BODY, headers: { authorization: ep.auth }, agent: false, timeoutMs: 10_000 });
  if (r.status !== 200 || !r.body.includes('"choices"')) {
    throw new Error(`${ep.name}: smoke request failed with status ${r.status}: ${r.body.slice(0, 500)}${ep.proc ? `\n${ep.proc.tail()}` : ''}`);
  }
}

// ---------------------------------------------------------------- phases

async function throughputRound(ep: Endpoint, upstream: Child, durationS: number): Promise<ThroughputRound> {
  const cpu0 = ep.proc ? cpuTimeMs(ep.proc.pid) : 0;
  const up0 = cpuTimeMs(upstream.pid);
  const wrk = await runWrk({
    url: ep.chatUrl,
    auth: ep.auth,
    body: CHAT_BODY,
    threads: WRK_THREADS,
    connections: THROUGHPUT_CONNECTIONS,
    durationS,
    luaDir: BENCH_DIR,
  });
  const cpu1 = ep.proc ? cpuTimeMs(ep.proc.pid) : 0;
  const up1 = cpuTimeMs(upstream.pid);
  checkErrors(`${ep.name} throughput`, wrk);
  const n = Math.max(1, wrk.requests);
  return { wrk, cpuMsPerRequest: (cpu1 - cpu0) / n, upstreamCpuMsPerRequest: (up1 - up0) / n };
}

async function pacedRound(ep: Endpoint, rate: number, durationS: number): Promise<WrkResult> {
  const wrk = await runWrk({
    url: ep.chatUrl,
    auth: ep.auth,
    body: CHAT_BODY,
    threads: WRK_THREADS,
    connections: PACED_CONNECTIONS,
    durationS,
    rate,
    luaDir: BENCH_DIR,
  });
  checkErrors(`${ep.name} @${rate} req/s`, wrk);
  // The pacing must be real: the achieved rate has to match the offered one.
  const achieved = wrk.pacing.achievedRps;
  if (Math.abs(achieved / rate - 1) > 0.03) warn(`${ep.name} @${rate} req/s: achieved only ${achieved.toFixed(1)} req/s`);
  if (wrk.pacing.lateSends > wrk.pacing.slots * 0.01) {
    warn(`${ep.name} @${rate} req/s: ${wrk.pacing.lateSends}/${wrk.pacing.slots} sends >1 ms late (max ${wrk.pacing.maxLateMs.toFixed(1)} ms)`);
  }
  return wrk;
}

function checkErrors(what: string, r: WrkResult): void {
  if (r.badStatus > 0 || r.socketErrors > 0) warn(`${what}: ${r.badStatus} HTTP errors, ${r.socketErrors} socket errors of ${r.requests} requests`);
}

const ms = (x: number): string => x.toFixed(3);

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  installExitHooks();
  const started = Date.now();
  const cfg: Config = {
    runs: intEnv('BENCH_RUNS', 3, 1, 50),
    durationS: intEnv('BENCH_DURATION', 5, 1, 120),
    gatewayEntry: path.resolve(ROOT, process.env.BENCH_GATEWAY_ENTRY || 'dist/local.mjs'),
  };
  if (!existsSync(path.join(BENCH_DIR, 'run.ts'))) throw new Error(`run from the package root (no test/bench/run.ts under ${ROOT})`);
  const wrkCheck = await runCommand('wrk', 'wrk', ['--version'], process.env, 5000);
  if (!wrkCheck.output.includes('wrk')) throw new Error('wrk not found on PATH (apt-get install wrk)');
  mkdirSync(OUT_DIR, { recursive: true });
  await ensureGatewayBuilt(cfg);
  const bundle = await bundleBareProxy();

  console.log(`bench: ${cfg.runs} run(s) x ${cfg.durationS}s, ${os.cpus().length} CPUs, node ${process.version}`);
  const upstream = await startUpstream();
  const floor = await startFloor(bundle, upstream.url);
  const gwPort = await freePort();
  const gateway = spawnGateway(cfg, gwPort, upstream.url);
  await waitHealthy(gateway, `http://127.0.0.1:${gwPort}`, 20_000);

  const eps: PerPath<Endpoint> = {
    direct: { name: 'direct', chatUrl: `${upstream.url}/chat/completions`, auth: `Bearer ${UPSTREAM_KEY}` },
    // The floor forwards headers untouched, so its clients present the upstream's key.
    floor: { name: 'floor', chatUrl: `http://127.0.0.1:${floor.port}/v1/chat/completions`, auth: `Bearer ${UPSTREAM_KEY}`, proc: floor.child },
    gateway: { name: 'gateway', chatUrl: `http://127.0.0.1:${gwPort}/v1/chat/completions`, auth: GATEWAY_AUTH, proc: gateway },
  };
  for (const p of PATHS) await smokeCheck(eps[p]);

  // Warm-up (JIT, connection pools); not recorded.
  for (const p of PATHS) await runWrk({ url: eps[p].chatUrl, auth: eps[p].auth, body: CHAT_BODY, threads: WRK_THREADS, connections: THROUGHPUT_CONNECTIONS, durationS: 2, luaDir: BENCH_DIR });

  const throughput: Array<PerPath<ThroughputRound>> = [];
  for (let r = 0; r < cfg.runs; r++) {
    const round = {} as PerPath<ThroughputRound>;
    for (const p of order(r)) round[p] = await throughputRound(eps[p], upstream.child, cfg.durationS);
    throughput.push(round);
    console.log(`throughput ${r + 1}/${cfg.runs}: ${PATHS.map((p) => `${p} ${round[p].wrk.rps.toFixed(0)}`).join(', ')} req/s`);
  }

  const paced: Record<number, Array<PerPath<WrkResult>>> = {};
  for (const rate of RATES) {
    paced[rate] = [];
    for (let r = 0; r < cfg.runs; r++) {
      const round = {} as PerPath<WrkResult>;
      for (const p of order(r)) round[p] = await pacedRound(eps[p], rate, cfg.durationS);
      paced[rate].push(round);
      console.log(`latency @${rate} ${r + 1}/${cfg.runs}: ${PATHS.map((p) => `${p} p50 ${ms(round[p].latencyMs.p50)} p99 ${ms(round[p].latencyMs.p99)}`).join(', ')} ms`);
    }
  }

  await setBehaviour(upstream.child, { streamChunks: STREAM_CHUNKS });
  const streams: Array<PerPath<StreamRun>> = [];
  for (let r = 0; r < cfg.runs; r++) {
    const round = {} as PerPath<StreamRun>;
    for (const p of order(r)) {
      const ep = eps[p];
      round[p] = await measureStreamTtfb({ url: ep.chatUrl, auth: ep.auth, body: STREAM_BODY, count: STREAM_REQUESTS, expectChunks: STREAM_CHUNKS, warmup: 20 });
      const s = round[p];
      if (s.badStatus > 0 || s.chunkMismatches > 0) warn(`${p} stream: ${s.badStatus} failed, ${s.chunkMismatches} with wrong chunk count; first: ${s.firstFailure}`);
    }
    streams.push(round);
    console.log(`stream TTFB ${r + 1}/${cfg.runs}: ${PATHS.map((p) => `${p} p50 ${ms(round[p].p50)} p99 ${ms(round[p].p99)}`).join(', ')} ms`);
  }
  await setBehaviour(upstream.child, null);

  // Peak memory after all the load; then the long-running proxies go away so cold starts run on a quiet box.
  const rss = { floor: peakRssMb(floor.child.pid), gateway: peakRssMb(gateway.pid) };
  await floor.child.stop();
  await gateway.stop();

  const coldStarts: number[] = [];
  for (let i = 0; i < COLD_STARTS; i++) {
    coldStarts.push(
      await coldStartOnce({
        start: (port) => spawnGateway(cfg, port, upstream.url),
        chatUrl: (port) => `http://127.0.0.1:${port}/v1/chat/completions`,
        auth: GATEWAY_AUTH,
        body: CHAT_BODY,
        timeoutMs: 20_000,
      }),
    );
  }
  console.log(`cold start: ${coldStarts.map((x) => x.toFixed(0)).join(', ')} ms`);
  await upstream.child.stop();

  const summary = summarize(throughput, paced, streams, coldStarts, rss);
  if (summary.upstreamCpuMsPerRequest.gateway < 0.5 * summary.upstreamCpuMsPerRequest.direct) {
    warn('the upstream did much less work per gateway request than per direct request: is the gateway answering from its cache?');
  }
  console.log(`\n${formatTable(summary, cfg.runs)}`);
  if (warnings.length > 0) console.log(`\n${warnings.length} warning(s); see above.`);

  const file = path.join(OUT_DIR, 'results.json');
  const meta = { date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, loadavg: os.loadavg(), elapsedS: (Date.now() - started) / 1000 };
  writeFileSync(file, `${JSON.stringify({ meta, config: { ...cfg, rates: RATES, streamChunks: STREAM_CHUNKS, streamRequests: STREAM_REQUESTS, coldStarts: COLD_STARTS }, summary, warnings, raw: { throughput, paced, streams, coldStarts } }, null, 2)}\n`);
  console.log(`results: ${path.relative(ROOT, file)} (${meta.elapsedS.toFixed(0)} s)`);
}

function summarize(
  throughput: Array<PerPath<ThroughputRound>>,
  paced: Record<number, Array<PerPath<WrkResult>>>,
  streams: Array<PerPath<StreamRun>>,
  coldStarts: number[],
  rss: { floor: number; gateway: number },
): Summary {
  const perPath = <T>(rounds: T[], f: (r: T, p: PathName) => number): PerPath<number> => ({
    direct: median(rounds.map((r) => f(r, 'direct'))),
    floor: median(rounds.map((r) => f(r, 'floor'))),
    gateway: median(rounds.map((r) => f(r, 'gateway'))),
  });
  // Added latency is the median of per-round differences: both sides of a difference saw the same noise.
  const added = <T>(rounds: Array<PerPath<T>>, f: (x: T) => number): { floor: number; gateway: number } => ({
    floor: median(rounds.map((r) => f(r.floor) - f(r.direct))),
    gateway: median(rounds.map((r) => f(r.gateway) - f(r.direct))),
  });

  const latency: LatencySummary[] = RATES.map((rate) => {
    const rounds = paced[rate] ?? [];
    return {
      offeredRps: rate,
      achievedRps: perPath(rounds, (r, p) => r[p].pacing.achievedRps),
      p50Ms: perPath(rounds, (r, p) => r[p].latencyMs.p50),
      p99Ms: perPath(rounds, (r, p) => r[p].latencyMs.p99),
      addedP50Ms: added(rounds, (x) => x.latencyMs.p50),
      addedP99Ms: added(rounds, (x) => x.latencyMs.p99),
    };
  });
  const gwStreams = streams.map((r) => r.gateway);
  const s: Omit<Summary, 'targets'> = {
    throughputRps: perPath(throughput, (r, p) => r[p].wrk.rps),
    gatewayFloorRatio: median(throughput.map((r) => r.gateway.wrk.rps / r.floor.wrk.rps)),
    cpuMsPerRequest: { floor: median(throughput.map((r) => r.floor.cpuMsPerRequest)), gateway: median(throughput.map((r) => r.gateway.cpuMsPerRequest)) },
    upstreamCpuMsPerRequest: perPath(throughput, (r, p) => r[p].upstreamCpuMsPerRequest),
    latency,
    stream: {
      chunks: STREAM_CHUNKS,
      p50Ms: perPath(streams, (r, p) => r[p].p50),
      p99Ms: perPath(streams, (r, p) => r[p].p99),
      addedP50Ms: added(streams, (x) => x.p50),
      addedP99Ms: added(streams, (x) => x.p99),
      gatewayContentChunks: {
        min: Math.min(...gwStreams.map((x) => x.minContentChunks)),
        max: Math.max(...gwStreams.map((x) => x.maxContentChunks)),
        mismatches: gwStreams.reduce((n, x) => n + x.chunkMismatches + x.badStatus, 0),
      },
    },
    coldStartMs: median(coldStarts),
    peakRssMb: rss,
  };
  const at500 = latency.find((l) => l.offeredRps === 500);
  const targets = [
    target('throughput ratio', s.gatewayFloorRatio * 100, 'min', 50, '% of floor'),
    target('added p50 @500', at500?.addedP50Ms.gateway ?? Number.NaN, 'max', 1, ' ms'),
    target('added p99 @500', at500?.addedP99Ms.gateway ?? Number.NaN, 'max', 3, ' ms'),
    target('added stream TTFB p50', s.stream.addedP50Ms.gateway, 'max', 1, ' ms'),
    target('cold start', s.coldStartMs, 'max', 200, ' ms'),
    target('peak RSS', s.peakRssMb.gateway, 'max', 150, ' MB'),
  ];
  return { ...s, targets };
}

main()
  .catch((err: unknown) => {
    console.error(`\nbench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
