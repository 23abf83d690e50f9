// The "core" section: direct vs floor (bare proxy) vs gateway, on the same fake OpenAI upstream
// and load, each in its own process: throughput, paced latency, streaming TTFB, cold start, RSS.
import { type Child, freePort } from './children';
import { coldStartOnce } from './cold-start';
import { request } from './http-util';
import { cpuTimeMs, peakRssMb } from './procstat';
import { bundleBareProxy, setBehaviour, spawnGateway, startFloor, startUpstream, waitHealthy, type BenchPaths } from './processes';
import { PATHS, type PathName, type PerPath, type Summary } from './report';
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
  name: PathName;
  chatUrl: string;
  auth: string;
  /** The proxy process whose CPU is charged to this path (none for direct). */
  proc?: Child;
}

/** Rotates the path order each round so no path is always measured first (or last) on a noisy box. */
function order(round: number): PathName[] {
  return PATHS.map((_, i) => PATHS[(i + round) % PATHS.length]!);
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
  for (const p of PATHS) await smokeCheck(eps[p]);

  // Warm-up (JIT, connection pools); not recorded.
  for (const p of PATHS) {
    await runWrk({ url: eps[p].chatUrl, auth: eps[p].auth, body: CHAT_BODY, threads: WRK_THREADS, connections: THROUGHPUT_CONNECTIONS, durationS: WARMUP_S, luaDir });
  }

  const throughput: RawResults['throughput'] = [];
  for (let r = 0; r < runs; r++) {
    const round = {} as PerPath<ThroughputRound>;
    for (const p of order(r)) round[p] = await throughputRound(eps[p], upstream.child, durationS, luaDir);
    throughput.push(round);
    console.log(`throughput ${r + 1}/${runs}: ${PATHS.map((p) => `${p} ${round[p].wrk.rps.toFixed(0)}`).join(', ')} req/s`);
  }

  const paced: RawResults['paced'] = {};
  for (const rate of RATES) {
    const rounds: Array<PerPath<WrkResult>> = [];
    for (let r = 0; r < runs; r++) {
      const round = {} as PerPath<WrkResult>;
      for (const p of order(r)) round[p] = await pacedRound(eps[p], rate, durationS, luaDir);
      rounds.push(round);
      console.log(`latency @${rate} ${r + 1}/${runs}: ${PATHS.map((p) => `${p} p50 ${ms(round[p].latencyMs.p50)} p99 ${ms(round[p].latencyMs.p99)}`).join(', ')} ms`);
    }
    paced[rate] = rounds;
  }

  await setBehaviour(upstream.child, { streamChunks: STREAM_CHUNKS });
  const streams: RawResults['streams'] = [];
  for (let r = 0; r < runs; r++) {
    const round = {} as PerPath<StreamRun>;
    for (const p of order(r)) {
      const ep = eps[p];
      const s = await measureStreamTtfb({ url: ep.chatUrl, auth: ep.auth, body: STREAM_BODY, count: STREAM_REQUESTS, expectChunks: STREAM_CHUNKS, warmup: 20 });
      if (s.badStatus > 0 || s.chunkMismatches > 0) warn(`${p} stream: ${s.badStatus} failed, ${s.chunkMismatches} with wrong chunk count; first: ${s.firstFailure}`);
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

  const raw: RawResults = { throughput, paced, streams, streamChunks: STREAM_CHUNKS, coldStartsMs, peakRssMb: peakRss };
  const summary = summarize(raw);
  // A gateway answering from its cache would make the upstream idle and the comparison meaningless.
  if (summary.upstreamCpuMsPerRequest.gateway < 0.5 * summary.upstreamCpuMsPerRequest.direct) {
    warn('the upstream did much less work per gateway request than per direct request: is the gateway answering from its cache?');
  }
  const config = { runs, durationS, gatewayEntry, rates: RATES, streamChunks: STREAM_CHUNKS, streamRequests: STREAM_REQUESTS, coldStarts: COLD_STARTS };
  return { config, summary, raw };
}
