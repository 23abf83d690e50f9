// Turns the raw per-round measurements into medians and checks the gateway targets.
import { type GatewayThroughput, type GatewayVariant, PATHS, target, type LatencySummary, type PathName, type PerPath, type Summary } from './report';
import { median } from './stats';
import type { StreamRun } from './stream-ttfb';
import type { WrkResult } from './wrk';

export interface ThroughputRound {
  wrk: WrkResult;
  /** CPU of the proxy process per request (0 for direct, which has no proxy). */
  cpuMsPerRequest: number;
  upstreamCpuMsPerRequest: number;
}

export interface RawResults {
  throughput: Array<PerPath<ThroughputRound>>;
  variants: GatewayVariant[];
  /** Per round (the same rounds as `throughput`), variant name → its throughput round. */
  variantThroughput: Array<Record<string, ThroughputRound>>;
  /** Offered rate → rounds. */
  paced: Record<number, Array<PerPath<WrkResult>>>;
  streams: Array<PerPath<StreamRun>>;
  streamChunks: number;
  coldStartsMs: number[];
  peakRssMb: { floor: number; gateway: number };
}

function perPath<T>(rounds: Array<PerPath<T>>, f: (x: T) => number): PerPath<number> {
  const out = {} as PerPath<number>;
  for (const p of PATHS) out[p] = median(rounds.map((r) => f(r[p])));
  return out;
}

/** Median of per-round differences to direct: both sides of each difference saw the same noise. */
function added<T>(rounds: Array<PerPath<T>>, f: (x: T) => number): { floor: number; gateway: number } {
  const diff = (p: PathName): number => median(rounds.map((r) => f(r[p]) - f(r.direct)));
  return { floor: diff('floor'), gateway: diff('gateway') };
}

/** `gateway` and each variant side by side, each paired per round with the floor and with `gateway`. */
function gatewayThroughputs(raw: RawResults, gatewayEntry: string): GatewayThroughput[] {
  const tp = raw.throughput;
  const of = (
    v: { name: string; entry: string; logLevel: 'error' | 'info'; stdoutFile?: string },
    pick: (round: number) => ThroughputRound,
  ): GatewayThroughput => ({
    name: v.name,
    entry: v.entry,
    logLevel: v.logLevel,
    ...(v.stdoutFile ? { stdoutFile: v.stdoutFile } : {}),
    throughputRps: median(tp.map((_, i) => pick(i).wrk.rps)),
    gatewayFloorRatio: median(tp.map((r, i) => pick(i).wrk.rps / r.floor.wrk.rps)),
    cpuMsPerRequest: median(tp.map((_, i) => pick(i).cpuMsPerRequest)),
    addedCpuMsPerRequest: median(tp.map((r, i) => pick(i).cpuMsPerRequest - r.gateway.cpuMsPerRequest)),
  });
  return [
    of({ name: 'gateway', entry: gatewayEntry, logLevel: 'error' }, (i) => tp[i]!.gateway),
    ...raw.variants.map((v) => of(v, (i) => raw.variantThroughput[i]![v.name]!)),
  ];
}

export function summarize(raw: RawResults, gatewayEntry: string): Summary {
  const latency: LatencySummary[] = Object.entries(raw.paced).map(([rate, rounds]) => ({
    offeredRps: Number(rate),
    achievedRps: perPath(rounds, (x) => x.pacing.achievedRps),
    p50Ms: perPath(rounds, (x) => x.latencyMs.p50),
    p99Ms: perPath(rounds, (x) => x.latencyMs.p99),
    addedP50Ms: added(rounds, (x) => x.latencyMs.p50),
    addedP99Ms: added(rounds, (x) => x.latencyMs.p99),
  }));
  const tp = raw.throughput;
  const gwStreams = raw.streams.map((r) => r.gateway);
  const s: Omit<Summary, 'targets'> = {
    throughputRps: perPath(tp, (x) => x.wrk.rps),
    // Paired per round, like the added latencies.
    gatewayFloorRatio: median(tp.map((r) => r.gateway.wrk.rps / r.floor.wrk.rps)),
    cpuMsPerRequest: { floor: median(tp.map((r) => r.floor.cpuMsPerRequest)), gateway: median(tp.map((r) => r.gateway.cpuMsPerRequest)) },
    upstreamCpuMsPerRequest: perPath(tp, (x) => x.upstreamCpuMsPerRequest),
    gateways: gatewayThroughputs(raw, gatewayEntry),
    latency,
    stream: {
      chunks: raw.streamChunks,
      p50Ms: perPath(raw.streams, (x) => x.p50),
      p99Ms: perPath(raw.streams, (x) => x.p99),
      addedP50Ms: added(raw.streams, (x) => x.p50),
      addedP99Ms: added(raw.streams, (x) => x.p99),
      gatewayContentChunks: {
        min: Math.min(...gwStreams.map((x) => x.minContentChunks)),
        max: Math.max(...gwStreams.map((x) => x.maxContentChunks)),
        mismatches: gwStreams.reduce((n, x) => n + x.chunkMismatches + x.badStatus, 0),
      },
    },
    coldStartMs: median(raw.coldStartsMs),
    peakRssMb: raw.peakRssMb,
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
