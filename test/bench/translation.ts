// The "translation" section: what each provider's request/response translation costs next to
// the OpenAI pass-through. Same gateway build, one gateway process and one fake process per
// provider; per provider, the direct path (client → fake, in the provider's own API) and the
// gateway path (client → gateway → fake) get the same load.
import type { Child } from './children';
import { freePort } from './children';
import { request } from './http-util';
import { cpuTimeMs, peakRssMb } from './procstat';
import { setBehaviour, spawnGatewayWithEnv, startUpstream, waitHealthy, type BenchPaths } from './processes';
import { PROVIDERS, type PerProvider, type ProviderName } from './provider-names';
import { SPECS, gatewayCall, type HttpCall } from './providers';
import { measureStreamTtfb, type StreamRun } from './stream-ttfb';
import type { ThroughputRound } from './summarize';
import { summarizeTranslation, type DirectAndGateway, type TranslationRaw, type TranslationSummary } from './translation-report';
import { openAiSse, type StreamFormat } from './wire-formats';
import { checkWrkErrors, warn } from './warnings';
import { runWrk, type WrkResult } from './wrk';

export interface TranslationOptions {
  dirs: BenchPaths;
  gatewayEntry: string;
  gatewayAuth: string;
  runs: number;
  durationS: number;
}

export interface TranslationConfig {
  runs: number;
  durationS: number;
  connections: number;
  streamChunks: number;
  streamRequests: number;
  models: PerProvider<string>;
}

export interface TranslationResult {
  config: TranslationConfig;
  summary: TranslationSummary;
  raw: TranslationRaw;
}

// Same load shape as the core section, so the OpenAI baseline is comparable with it.
const CONNECTIONS = 64;
const WRK_THREADS = 2;
const WARMUP_S = 1;
const STREAM_CHUNKS = 20;
const STREAM_REQUESTS = 300;
const STREAM_WARMUP = 20;

type PathKind = keyof DirectAndGateway<unknown>;

interface Endpoint {
  label: string;
  /** Built per round: a Bedrock direct request carries a fresh signature. */
  call(stream: boolean): Promise<HttpCall>;
  format: StreamFormat;
  /** The gateway process charged with this path's CPU (none for direct). */
  proc?: Child;
}

interface ProviderSetup {
  upstream: Child;
  gateway: Child;
  paths: DirectAndGateway<Endpoint>;
}

async function startProvider(o: TranslationOptions, p: ProviderName): Promise<ProviderSetup> {
  const spec = SPECS[p];
  const upstream = await startUpstream(o.dirs, p);
  const port = await freePort();
  const gateway = spawnGatewayWithEnv(o.dirs, o.gatewayEntry, port, spec.gatewayEnv(upstream.url), `gateway-${p}`);
  const base = `http://127.0.0.1:${port}`;
  await waitHealthy(gateway, base, 20_000);
  return {
    upstream: upstream.child,
    gateway,
    paths: {
      direct: { label: `${p} direct`, call: (stream) => spec.direct(upstream.url, stream), format: spec.directFormat },
      gateway: { label: `${p} gateway`, call: async (stream) => gatewayCall(base, o.gatewayAuth, spec, stream), format: openAiSse, proc: gateway },
    },
  };
}

/** One request per path before any load: the gateway must really have routed to this provider. */
async function smokeCheck(p: ProviderName, ep: Endpoint): Promise<void> {
  const call = await ep.call(false);
  const r = await request(call.url, { method: 'POST', body: call.body, headers: call.headers, timeoutMs: 10_000 });
  const fail = (why: string): Error => new Error(`${ep.label}: smoke request ${why}: ${r.body.slice(0, 500)}${ep.proc ? `\n${ep.proc.tail()}` : ''}`);
  if (r.status !== 200) throw fail(`failed with status ${r.status}`);
  if (!ep.proc) return;
  let provider: unknown;
  try {
    provider = (JSON.parse(r.body) as { x_gateway?: { provider?: unknown } }).x_gateway?.provider;
  } catch {
    throw fail('returned no JSON');
  }
  if (provider !== p) throw fail(`was answered by provider ${String(provider)}, not ${p}`);
}

async function wrkOnce(ep: Endpoint, durationS: number, luaDir: string): Promise<WrkResult> {
  const call = await ep.call(false);
  return runWrk({ url: call.url, auth: '', headers: call.headers, body: call.body, threads: WRK_THREADS, connections: CONNECTIONS, durationS, luaDir });
}

async function throughputRound(ep: Endpoint, upstream: Child, durationS: number, luaDir: string): Promise<ThroughputRound> {
  const call = await ep.call(false); // signed before the CPU snapshot: signing is the bench's work
  const cpu0 = ep.proc ? cpuTimeMs(ep.proc.pid) : 0;
  const up0 = cpuTimeMs(upstream.pid);
  const wrk = await runWrk({
    url: call.url,
    auth: '',
    headers: call.headers,
    body: call.body,
    threads: WRK_THREADS,
    connections: CONNECTIONS,
    durationS,
    luaDir,
  });
  const cpu1 = ep.proc ? cpuTimeMs(ep.proc.pid) : 0;
  const up1 = cpuTimeMs(upstream.pid);
  checkWrkErrors(`${ep.label} throughput`, wrk);
  const n = Math.max(1, wrk.requests);
  return { wrk, cpuMsPerRequest: (cpu1 - cpu0) / n, upstreamCpuMsPerRequest: (up1 - up0) / n };
}

async function streamRound(ep: Endpoint): Promise<StreamRun> {
  const call = await ep.call(true);
  const s = await measureStreamTtfb({
    url: call.url,
    headers: call.headers,
    body: call.body,
    format: ep.format,
    count: STREAM_REQUESTS,
    expectChunks: STREAM_CHUNKS,
    warmup: STREAM_WARMUP,
  });
  if (s.badStatus > 0 || s.chunkMismatches > 0)
    warn(`${ep.label} stream: ${s.badStatus} failed, ${s.chunkMismatches} with wrong chunk count; first: ${s.firstFailure}`);
  return s;
}

/** Provider order rotates per round, and direct/gateway alternate, so no path is always first. */
function schedule(round: number): Array<[ProviderName, PathKind]> {
  const kinds: PathKind[] = round % 2 === 0 ? ['direct', 'gateway'] : ['gateway', 'direct'];
  return PROVIDERS.map((_, i) => PROVIDERS[(i + round) % PROVIDERS.length]!).flatMap((p) => kinds.map((k): [ProviderName, PathKind] => [p, k]));
}

const fmt = (x: number): string => x.toFixed(3);

export async function runTranslation(o: TranslationOptions): Promise<TranslationResult> {
  const luaDir = o.dirs.benchDir;
  // Started one after another: concurrent start-ups would only compete for the same CPUs.
  const setups = {} as PerProvider<ProviderSetup>;
  for (const p of PROVIDERS) setups[p] = await startProvider(o, p);
  try {
    for (const p of PROVIDERS) for (const k of ['direct', 'gateway'] as const) await smokeCheck(p, setups[p].paths[k]);

    // Warm-up (JIT, connection pools, the SDK's lazy loading); not recorded.
    for (const [p, k] of schedule(0)) await wrkOnce(setups[p].paths[k], WARMUP_S, luaDir);

    const throughput: TranslationRaw['throughput'] = [];
    for (let r = 0; r < o.runs; r++) {
      const round = {} as PerProvider<DirectAndGateway<ThroughputRound>>;
      for (const p of PROVIDERS) round[p] = {} as DirectAndGateway<ThroughputRound>;
      for (const [p, k] of schedule(r)) round[p][k] = await throughputRound(setups[p].paths[k], setups[p].upstream, o.durationS, luaDir);
      throughput.push(round);
      const cells = PROVIDERS.map((p) => `${p} ${round[p].direct.wrk.rps.toFixed(0)}/${round[p].gateway.wrk.rps.toFixed(0)}`);
      console.log(`translation throughput ${r + 1}/${o.runs} (direct/gateway req/s): ${cells.join(', ')}`);
    }

    for (const p of PROVIDERS) await setBehaviour(setups[p].upstream, { streamChunks: STREAM_CHUNKS });
    const streams: TranslationRaw['streams'] = [];
    for (let r = 0; r < o.runs; r++) {
      const round = {} as PerProvider<DirectAndGateway<StreamRun>>;
      for (const p of PROVIDERS) round[p] = {} as DirectAndGateway<StreamRun>;
      for (const [p, k] of schedule(r)) round[p][k] = await streamRound(setups[p].paths[k]);
      streams.push(round);
      const cells = PROVIDERS.map((p) => `${p} ${fmt(round[p].direct.p50)}/${fmt(round[p].gateway.p50)}`);
      console.log(`translation stream TTFB p50 ${r + 1}/${o.runs} (direct/gateway ms): ${cells.join(', ')}`);
    }

    const gatewayPeakRssMb = {} as PerProvider<number>;
    for (const p of PROVIDERS) gatewayPeakRssMb[p] = peakRssMb(setups[p].gateway.pid);
    const raw: TranslationRaw = { throughput, streams, streamChunks: STREAM_CHUNKS, gatewayPeakRssMb };
    const models = {} as PerProvider<string>;
    for (const p of PROVIDERS) models[p] = SPECS[p].gatewayModel;
    const summary = summarizeTranslation(raw, models);
    // A gateway answering from its cache would leave the fake idle and the comparison meaningless.
    for (const p of PROVIDERS) {
      const up = summary.providers[p].upstreamCpuMsPerRequest;
      if (up.gateway < 0.5 * up.direct)
        warn(`${p}: the fake did much less work per gateway request than per direct request: is the gateway answering from its cache?`);
    }
    const config: TranslationConfig = {
      runs: o.runs,
      durationS: o.durationS,
      connections: CONNECTIONS,
      streamChunks: STREAM_CHUNKS,
      streamRequests: STREAM_REQUESTS,
      models,
    };
    return { config, summary, raw };
  } finally {
    for (const p of PROVIDERS) {
      await setups[p].gateway.stop();
      await setups[p].upstream.stop();
    }
  }
}
