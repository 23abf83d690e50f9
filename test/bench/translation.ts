// The "translation" section: what each provider's request/response translation costs next to
// the OpenAI pass-through, for chat completions, the Responses API and the Anthropic Messages API. Same gateway build, one
// gateway process and one fake process per provider; per row (a client API on a provider), the
// direct path (client → fake, in the provider's own API) and the gateway path (client → gateway
// → fake) get the same load.
import os from 'node:os';
import type { Child } from './children';
import { freePort } from './children';
import { cpuSnapshot, cpuUse } from './outage-cpu';
import { request } from './http-util';
import { cpuTimeMs, peakRssMb } from './procstat';
import { lastUpstreamPath, setBehaviour, spawnGatewayWithEnv, startUpstream, waitHealthy, type BenchPaths } from './processes';
import { PROVIDERS, type PerProvider, type ProviderName } from './provider-names';
import { GATEWAY_FORMAT, OPENAI_RESPONSES_PATH, SPECS, gatewayCall, openAiResponsesDirect, streamText, type HttpCall } from './providers';
import { measureStreamTtfb, type StreamRun } from './stream-ttfb';
import type { ThroughputRound } from './summarize';
import {
  ROWS,
  summarizeTranslation,
  type BenchRow,
  type DirectAndGateway,
  type MachineLoad,
  type PerRow,
  type TranslationRaw,
  type TranslationSummary,
} from './translation-report';
import { responsesSse, type StreamFormat } from './wire-formats';
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
  rows: BenchRow[];
  machine: MachineLoad;
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
  base: string;
  upstreamUrl: string;
}

interface RowSetup {
  upstream: Child;
  /** The fake's API the gateway called for this row (found by the smoke request). */
  upstreamPath: string;
  paths: DirectAndGateway<Endpoint>;
}

async function startProvider(o: TranslationOptions, p: ProviderName): Promise<ProviderSetup> {
  const upstream = await startUpstream(o.dirs, p);
  const port = await freePort();
  const gateway = spawnGatewayWithEnv(o.dirs, o.gatewayEntry, port, SPECS[p].gatewayEnv(upstream.url), `gateway-${p}`);
  const base = `http://127.0.0.1:${port}`;
  await waitHealthy(gateway, base, 20_000);
  return { upstream: upstream.child, gateway, base, upstreamUrl: upstream.url };
}

/** One request on a path: it must succeed; through the gateway it returns the answer's JSON. */
async function smokeRequest(ep: Endpoint): Promise<Record<string, unknown>> {
  const call = await ep.call(false);
  const r = await request(call.url, { method: 'POST', body: call.body, headers: call.headers, timeoutMs: 10_000 });
  const fail = (why: string): Error => new Error(`${ep.label}: smoke request ${why}: ${r.body.slice(0, 500)}${ep.proc ? `\n${ep.proc.tail()}` : ''}`);
  if (r.status !== 200) throw fail(`failed with status ${r.status}`);
  try {
    const parsed: unknown = JSON.parse(r.body);
    if (typeof parsed === 'object' && parsed !== null) return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw fail('returned no JSON object');
}

/**
 * Smoke-checks a row before any load: the gateway must have answered in the row's API from the
 * intended provider. The fake then says which of its APIs the gateway called; that picks the
 * direct path (OpenAI's own Responses API once the gateway forwards there, else the provider's
 * usual one), which is smoke-checked too.
 */
async function setUpRow(o: TranslationOptions, row: BenchRow, provider: ProviderSetup): Promise<RowSetup> {
  const spec = SPECS[row.provider];
  const gateway: Endpoint = {
    label: `${row.label} gateway`,
    call: async (stream) => gatewayCall(provider.base, o.gatewayAuth, spec, row.api, stream),
    format: GATEWAY_FORMAT[row.api],
    proc: provider.gateway,
  };
  const answer = await smokeRequest(gateway);
  const reported = (answer.x_gateway as { provider?: unknown } | undefined)?.provider;
  if (reported !== row.provider) throw new Error(`${gateway.label}: answered by provider ${String(reported)}, not ${row.provider}`);
  // An Anthropic message names its kind in `type`; OpenAI's objects in `object`.
  const [kindField, kind] = row.api === 'messages' ? ['type', 'message'] : ['object', row.api === 'chat' ? 'chat.completion' : 'response'];
  if (answer[kindField] !== kind) throw new Error(`${gateway.label}: answer has ${kindField} ${String(answer[kindField])}, not ${kind}`);
  const upstreamPath = await lastUpstreamPath(provider.upstream);

  const native = row.api === 'responses' && row.provider === 'openai' && upstreamPath.startsWith(OPENAI_RESPONSES_PATH);
  const direct: Endpoint = native
    ? { label: `${row.label} direct`, call: async (stream) => openAiResponsesDirect(provider.upstreamUrl, stream), format: responsesSse }
    : { label: `${row.label} direct`, call: (stream) => spec.direct(provider.upstreamUrl, stream), format: spec.directFormat };
  await smokeRequest(direct);
  return { upstream: provider.upstream, upstreamPath, paths: { direct, gateway } };
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
    expectText: streamText(STREAM_CHUNKS),
    warmup: STREAM_WARMUP,
  });
  if (s.badStatus > 0 || s.chunkMismatches > 0 || s.textMismatches > 0)
    warn(
      `${ep.label} stream: ${s.badStatus} failed, ${s.chunkMismatches} with wrong chunk count, ${s.textMismatches} with wrong text or ending; first: ${s.firstFailure}`,
    );
  return s;
}

type PathKind = keyof DirectAndGateway<unknown>;

/** Row order rotates per round, and direct/gateway alternate, so no path is always first. */
function schedule(round: number): Array<[string, PathKind]> {
  const kinds: PathKind[] = round % 2 === 0 ? ['direct', 'gateway'] : ['gateway', 'direct'];
  return ROWS.map((_, i) => ROWS[(i + round) % ROWS.length]!.label).flatMap((label) => kinds.map((k): [string, PathKind] => [label, k]));
}

const fmt = (x: number): string => x.toFixed(3);

/** A fresh per-row record for one round, filled path by path. */
function emptyRound<T>(): PerRow<DirectAndGateway<T>> {
  const round: PerRow<DirectAndGateway<T>> = {};
  for (const { label } of ROWS) round[label] = {} as DirectAndGateway<T>;
  return round;
}

export async function runTranslation(o: TranslationOptions): Promise<TranslationResult> {
  const luaDir = o.dirs.benchDir;
  const loadBefore = os.loadavg();
  const cpuBefore = cpuSnapshot([]);
  // Started one after another: concurrent start-ups would only compete for the same CPUs.
  const providers: Partial<PerProvider<ProviderSetup>> = {};
  try {
    for (const p of PROVIDERS) providers[p] = await startProvider(o, p);
    const started = providers as PerProvider<ProviderSetup>;
    const rows: PerRow<RowSetup> = {};
    for (const row of ROWS) rows[row.label] = await setUpRow(o, row, started[row.provider]);
    const rowOf = (label: string): RowSetup => rows[label]!;
    const upstreamPaths: PerRow<string> = {};
    for (const { label } of ROWS) upstreamPaths[label] = rowOf(label).upstreamPath;
    console.log(`translation upstream paths: ${ROWS.map(({ label }) => `${label} → ${upstreamPaths[label]}`).join(', ')}`);

    // Warm-up (JIT, connection pools, the SDK's lazy loading); not recorded.
    for (const [label, k] of schedule(0)) await wrkOnce(rowOf(label).paths[k], WARMUP_S, luaDir);

    const throughput: TranslationRaw['throughput'] = [];
    for (let r = 0; r < o.runs; r++) {
      const round = emptyRound<ThroughputRound>();
      for (const [label, k] of schedule(r)) round[label]![k] = await throughputRound(rowOf(label).paths[k], rowOf(label).upstream, o.durationS, luaDir);
      throughput.push(round);
      const cells = ROWS.map(({ label }) => `${label} ${round[label]!.direct.wrk.rps.toFixed(0)}/${round[label]!.gateway.wrk.rps.toFixed(0)}`);
      console.log(`translation throughput ${r + 1}/${o.runs} (direct/gateway req/s): ${cells.join(', ')}`);
    }

    for (const p of PROVIDERS) await setBehaviour(started[p].upstream, { streamChunks: STREAM_CHUNKS });
    const streams: TranslationRaw['streams'] = [];
    for (let r = 0; r < o.runs; r++) {
      const round = emptyRound<StreamRun>();
      for (const [label, k] of schedule(r)) round[label]![k] = await streamRound(rowOf(label).paths[k]);
      streams.push(round);
      const cells = ROWS.map(({ label }) => `${label} ${fmt(round[label]!.direct.p50)}/${fmt(round[label]!.gateway.p50)}`);
      console.log(`translation stream TTFB p50 ${r + 1}/${o.runs} (direct/gateway ms): ${cells.join(', ')}`);
    }

    const gatewayPeakRssMb = {} as PerProvider<number>;
    for (const p of PROVIDERS) gatewayPeakRssMb[p] = peakRssMb(started[p].gateway.pid);
    const raw: TranslationRaw = { throughput, streams, streamChunks: STREAM_CHUNKS, upstreamPaths, gatewayPeakRssMb };
    const models = {} as PerProvider<string>;
    for (const p of PROVIDERS) models[p] = SPECS[p].gatewayModel;
    const summary = summarizeTranslation(raw, models);
    // A gateway answering from its cache would leave the fake idle and the comparison meaningless.
    for (const { label } of ROWS) {
      const up = summary.rows[label]!.upstreamCpuMsPerRequest;
      if (up.gateway < 0.5 * up.direct)
        warn(`${label}: the fake did much less work per gateway request than per direct request: is the gateway answering from its cache?`);
    }
    const cores = os.cpus().length;
    const machine: MachineLoad = { cores, busyCores: cpuUse(cpuBefore, cpuSnapshot([]), cores).machineBusyCores, loadBefore, loadAfter: os.loadavg() };
    const config: TranslationConfig = {
      runs: o.runs,
      durationS: o.durationS,
      connections: CONNECTIONS,
      streamChunks: STREAM_CHUNKS,
      streamRequests: STREAM_REQUESTS,
      models,
      rows: [...ROWS],
      machine,
    };
    return { config, summary, raw };
  } finally {
    for (const p of PROVIDERS) {
      await providers[p]?.gateway.stop();
      await providers[p]?.upstream.stop();
    }
  }
}
