// The "core" section: direct vs floor (bare proxy) vs gateway, on the same fake OpenAI upstream
// and load, each in its own process: throughput, paced latency, streaming TTFB, cold start, RSS.
// The throughput rounds also load the gateway at the default LOG_LEVEL=info and, when asked, the
// gateway of another build, so the cost of the access line and a before/after share one run.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type Child, freePort } from './children';
import { coldStartOnce } from './cold-start';
import { request } from './http-util';
import { cpuTimeMs, peakRssMb } from './procstat';
import { bundleBareProxy, setBehaviour, spawnGateway, startFloor, startUpstream, waitHealthy, type BenchPaths } from './processes';
import { type GatewayVariant, PATHS, type PerPath, type Summary } from './report';
import { measureStreamTtfb, type StreamRun } from './stream-ttfb';
import { type RawResults, type ThroughputRound, summarize } from './summarize';
import { checkWrkErrors, warn } from './warnings';
import { runWrk, type WrkResult } from './wrk';

export interface CoreOptions {
  dirs: BenchPaths;
  gatewayEntry: string;
  gatewayAuth: string;
  runs: number;
  durationS: number;
  /** Another build's gateway entry, loaded at both log levels as "before". */
  compareEntry?: string;
}

export interface CoreResult {
  config: Record<string, unknown>;
  summary: Summary;
  raw: RawResults;
}

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
const WARMUP_S = 2;

interface Endpoint {
  name: string;
  chatUrl: string;
  auth: string;
  /** The proxy process whose CPU is charged to this path (none for direct). */
  proc?: Child;
}

/** Rotates the order each round so no path is always measured first (or last) on a noisy box. */
function order<T extends string>(names: readonly T[], round: number): T[] {
  return names.map((_, i) => names[(i + round) % names.length]!);
}

/** The gateways loaded in the throughput rounds besides `gateway` (this build at LOG_LEVEL=error). */
function gatewayVariants(entry: string, compareEntry: string | undefined, outDir: string): GatewayVariant[] {
  // Info lines go to a file: each write is a syscall copying the line into the kernel, as into the
  // pipe a log collector reads in a deployment, but no reader process takes CPU from the load.
  const logFile = (name: string): string => path.join(outDir, `core-${name.replace(/\W+/g, '-')}.log`);
  const variants: GatewayVariant[] = [{ name: 'gateway info', entry, logLevel: 'info', stdoutFile: logFile('gateway info') }];
  if (compareEntry) {
    variants.push({ name: 'before', entry: compareEntry, logLevel: 'error' });
    variants.push({ name: 'before info', entry: compareEntry, logLevel: 'info', stdoutFile: logFile('before info') });
  }
  return variants;
}

/** Access lines in a gateway's log file: at info every measured request must have written one. */
function countAccessLines(file: string): number {
  const text = readFileSync(file, 'utf8');
  let n = 0;
  for (let i = text.indexOf('"request completed"'); i !== -1; i = text.indexOf('"request completed"', i + 1)) n++;
  return n;
}

const ms = (x: number): string => x.toFixed(3);

async function smokeCheck(ep: Endpoint): Promise<void> {
  const r = await request(ep.chatUrl, { method: 'POST', body: CHAT_BODY, headers: { authorization: ep.auth }, timeoutMs: 10_000 });
  if (r.status !== 200 || !r.body.includes('"choices"')) {
    throw new Error(`${ep.name}: smoke request failed with status ${r.status}: ${r.body.slice(0, 500)}${ep.proc ? `\n${ep.proc.tail()}` : ''}`);
  }
}

async function throughputRound(ep: Endpoint, upstream: Child, durationS: number, luaDir: string): Promise<ThroughputRound> {
  const cpu0 = ep.proc ? cpuTimeMs(ep.proc.pid) : 0;
  const up0 = cpuTimeMs(upstream.pid);
  const wrk = await runWrk({ url: ep.chatUrl, auth: ep.auth, body: CHAT_BODY, threads: WRK_THREADS, connections: THROUGHPUT_CONNECTIONS, durationS, luaDir });
  const cpu1 = ep.proc ? cpuTimeMs(ep.proc.pid) : 0;
  const up1 = cpuTimeMs(upstream.pid);
  checkWrkErrors(`${ep.name} throughput`, wrk);
  const n = Math.max(1, wrk.requests);
  return { wrk, cpuMsPerRequest: (cpu1 - cpu0) / n, upstreamCpuMsPerRequest: (up1 - up0) / n };
}

async function pacedRound(ep: Endpoint, rate: number, durationS: number, luaDir: string): Promise<WrkResult> {
  const wrk = await runWrk({ url: ep.chatUrl, auth: ep.auth, body: CHAT_BODY, threads: WRK_THREADS, connections: PACED_CONNECTIONS, durationS, rate, luaDir });
  checkWrkErrors(`${ep.name} @${rate} req/s`, wrk);
  // The pacing must be real: the achieved rate has to match the offered one.
  const achieved = wrk.pacing.achievedRps;
  if (Math.abs(achieved / rate - 1) > 0.03) warn(`${ep.name} @${rate} req/s: achieved only ${achieved.toFixed(1)} req/s`);
  if (wrk.pacing.lateSends > wrk.pacing.slots * 0.01) {
    warn(`${ep.name} @${rate} req/s: ${wrk.pacing.lateSends}/${wrk.pacing.slots} sends >1 ms late (max ${wrk.pacing.maxLateMs.toFixed(1)} ms)`);
  }
  return wrk;
}

export async function runCore(o: CoreOptions): Promise<CoreResult> {
  const { dirs, gatewayEntry, runs, durationS } = o;
  const variants = gatewayVariants(gatewayEntry, o.compareEntry, dirs.outDir);
  const luaDir = dirs.benchDir;
  const bundle = await bundleBareProxy(dirs);
  const upstream = await startUpstream(dirs);
  const floor = await startFloor(bundle, upstream.url);
  const gwPort = await freePort();
  const gateway = spawnGateway(dirs, gatewayEntry, gwPort, upstream.url, UPSTREAM_KEY);
  await waitHealthy(gateway, `http://127.0.0.1:${gwPort}`, 20_000);

  const eps: PerPath<Endpoint> = {
    direct: { name: 'direct', chatUrl: `${upstream.url}/chat/completions`, auth: `Bearer ${UPSTREAM_KEY}` },
    // The floor forwards headers untouched, so its clients present the upstream's key.
    floor: { name: 'floor', chatUrl: `http://127.0.0.1:${floor.port}/v1/chat/completions`, auth: `Bearer ${UPSTREAM_KEY}`, proc: floor.child },
    gateway: { name: 'gateway', chatUrl: `http://127.0.0.1:${gwPort}/v1/chat/completions`, auth: o.gatewayAuth, proc: gateway },
  };
  const variantEps: Record<string, Endpoint> = {};
  for (const v of variants) {
    const port = await freePort();
    const proc = spawnGateway(dirs, v.entry, port, upstream.url, UPSTREAM_KEY, {
      logLevel: v.logLevel,
      stdoutFile: v.stdoutFile,
      name: v.name.replace(' ', '-'),
    });
    await waitHealthy(proc, `http://127.0.0.1:${port}`, 20_000);
    variantEps[v.name] = { name: v.name, chatUrl: `http://127.0.0.1:${port}/v1/chat/completions`, auth: o.gatewayAuth, proc };
  }
  const loaded: Record<string, Endpoint> = { ...eps, ...variantEps };
  const loadedNames = Object.keys(loaded);
  for (const name of loadedNames) await smokeCheck(loaded[name]!);

  // Warm-up (JIT, connection pools); not recorded.
  for (const name of loadedNames) {
    const ep = loaded[name]!;
    await runWrk({ url: ep.chatUrl, auth: ep.auth, body: CHAT_BODY, threads: WRK_THREADS, connections: THROUGHPUT_CONNECTIONS, durationS: WARMUP_S, luaDir });
  }

  const throughput: RawResults['throughput'] = [];
  const variantThroughput: RawResults['variantThroughput'] = [];
  for (let r = 0; r < runs; r++) {
    const round: Record<string, ThroughputRound> = {};
    for (const name of order(loadedNames, r)) round[name] = await throughputRound(loaded[name]!, upstream.child, durationS, luaDir);
    throughput.push({ direct: round.direct!, floor: round.floor!, gateway: round.gateway! });
    variantThroughput.push(Object.fromEntries(variants.map((v) => [v.name, round[v.name]!])));
    console.log(`throughput ${r + 1}/${runs}: ${loadedNames.map((p) => `${p} ${round[p]!.wrk.rps.toFixed(0)}`).join(', ')} req/s`);
  }
  // The variants served the throughput rounds only; proof that info really wrote a line per request.
  for (const v of variants) {
    await variantEps[v.name]!.proc!.stop();
    if (!v.stdoutFile) continue;
    const measured = variantThroughput.reduce((n, round) => n + round[v.name]!.wrk.requests, 0);
    v.accessLines = countAccessLines(v.stdoutFile);
    if (v.accessLines < measured) warn(`${v.name}: ${v.accessLines} access lines in ${v.stdoutFile} for ${measured} measured requests`);
  }

  const paced: RawResults['paced'] = {};
  for (const rate of RATES) {
    const rounds: Array<PerPath<WrkResult>> = [];
    for (let r = 0; r < runs; r++) {
      const round = {} as PerPath<WrkResult>;
      for (const p of order(PATHS, r)) round[p] = await pacedRound(eps[p], rate, durationS, luaDir);
      rounds.push(round);
      console.log(
        `latency @${rate} ${r + 1}/${runs}: ${PATHS.map((p) => `${p} p50 ${ms(round[p].latencyMs.p50)} p99 ${ms(round[p].latencyMs.p99)}`).join(', ')} ms`,
      );
    }
    paced[rate] = rounds;
  }

  await setBehaviour(upstream.child, { streamChunks: STREAM_CHUNKS });
  const streams: RawResults['streams'] = [];
  for (let r = 0; r < runs; r++) {
    const round = {} as PerPath<StreamRun>;
    for (const p of order(PATHS, r)) {
      const ep = eps[p];
      const s = await measureStreamTtfb({ url: ep.chatUrl, auth: ep.auth, body: STREAM_BODY, count: STREAM_REQUESTS, expectChunks: STREAM_CHUNKS, warmup: 20 });
      if (s.badStatus > 0 || s.chunkMismatches > 0)
        warn(`${p} stream: ${s.badStatus} failed, ${s.chunkMismatches} with wrong chunk count; first: ${s.firstFailure}`);
      round[p] = s;
    }
    streams.push(round);
    console.log(`stream TTFB ${r + 1}/${runs}: ${PATHS.map((p) => `${p} p50 ${ms(round[p].p50)} p99 ${ms(round[p].p99)}`).join(', ')} ms`);
  }
  await setBehaviour(upstream.child, null);

  // Peak memory after all the load; then the long-running proxies go away so cold starts run on a quiet box.
  const peakRss = { floor: peakRssMb(floor.child.pid), gateway: peakRssMb(gateway.pid) };
  await floor.child.stop();
  await gateway.stop();

  const coldStartsMs: number[] = [];
  for (let i = 0; i < COLD_STARTS; i++) {
    const t = await coldStartOnce({
      start: (port) => spawnGateway(dirs, gatewayEntry, port, upstream.url, UPSTREAM_KEY),
      chatUrl: (port) => `http://127.0.0.1:${port}/v1/chat/completions`,
      auth: o.gatewayAuth,
      body: CHAT_BODY,
      timeoutMs: 20_000,
    });
    coldStartsMs.push(t);
  }
  console.log(`cold start: ${coldStartsMs.map((x) => x.toFixed(0)).join(', ')} ms`);
  await upstream.child.stop();

  const raw: RawResults = { throughput, variants, variantThroughput, paced, streams, streamChunks: STREAM_CHUNKS, coldStartsMs, peakRssMb: peakRss };
  const summary = summarize(raw, gatewayEntry);
  // A gateway answering from its cache would make the upstream idle and the comparison meaningless.
  if (summary.upstreamCpuMsPerRequest.gateway < 0.5 * summary.upstreamCpuMsPerRequest.direct) {
    warn('the upstream did much less work per gateway request than per direct request: is the gateway answering from its cache?');
  }
  const config = {
    runs,
    durationS,
    gatewayEntry,
    compareEntry: o.compareEntry,
    rates: RATES,
    streamChunks: STREAM_CHUNKS,
    streamRequests: STREAM_REQUESTS,
    coldStarts: COLD_STARTS,
  };
  return { config, summary, raw };
}
