// Summary shape (what goes to .bench/results.json) and the compact table printed at the end.

export const PATHS = ['direct', 'floor', 'gateway'] as const;
export type PathName = (typeof PATHS)[number];
export type PerPath<T> = Record<PathName, T>;

/** A gateway loaded in the throughput rounds besides `gateway` (this build at LOG_LEVEL=error). */
export interface GatewayVariant {
  name: string;
  entry: string;
  logLevel: 'error' | 'info';
  /** Where its stdout (the log lines) went; absent: a pipe the bench reads (nothing is written at error). */
  stdoutFile?: string;
  /** "request completed" lines found in stdoutFile after the rounds. */
  accessLines?: number;
}

/** One gateway's throughput figures, medians over the rounds. */
export interface GatewayThroughput {
  name: string;
  entry: string;
  logLevel: 'error' | 'info';
  stdoutFile?: string;
  throughputRps: number;
  /** Median of the per-round ratios to the floor. */
  gatewayFloorRatio: number;
  cpuMsPerRequest: number;
  /** CPU ms per request minus `gateway`'s (this build at error), median of per-round differences. */
  addedCpuMsPerRequest: number;
}

export interface LatencySummary {
  offeredRps: number;
  achievedRps: PerPath<number>;
  p50Ms: PerPath<number>;
  p99Ms: PerPath<number>;
  /** Path minus direct, median of the per-round differences. */
  addedP50Ms: { floor: number; gateway: number };
  addedP99Ms: { floor: number; gateway: number };
}

export interface Target {
  name: string;
  value: number;
  limit: number;
  /** 'max': value must be <= limit; 'min': value must be >= limit. */
  kind: 'max' | 'min';
  unit: string;
  pass: boolean;
}

export interface Summary {
  throughputRps: PerPath<number>;
  /** Median of the per-round gateway/floor ratios (paired, so machine noise partly cancels). */
  gatewayFloorRatio: number;
  cpuMsPerRequest: { floor: number; gateway: number };
  upstreamCpuMsPerRequest: PerPath<number>;
  /** `gateway` first, then each variant: this build at LOG_LEVEL=info, another build ("before"). */
  gateways: GatewayThroughput[];
  latency: LatencySummary[];
  stream: {
    chunks: number;
    p50Ms: PerPath<number>;
    p99Ms: PerPath<number>;
    addedP50Ms: { floor: number; gateway: number };
    addedP99Ms: { floor: number; gateway: number };
    /** Content chunks per gateway stream over all measured streams. */
    gatewayContentChunks: { min: number; max: number; mismatches: number };
  };
  coldStartMs: number;
  peakRssMb: { floor: number; gateway: number };
  targets: Target[];
}

export function target(name: string, value: number, kind: 'max' | 'min', limit: number, unit: string): Target {
  const pass = Number.isFinite(value) && (kind === 'max' ? value <= limit : value >= limit);
  return { name, value, limit, kind, unit, pass };
}

const f = (x: number, d: number): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const NONE = '-';

function row(label: string, cells: [string, string, string], note = ''): string {
  return `${label.padEnd(32)}${cells.map((c) => c.padStart(10)).join('')}${note ? `   ${note}` : ''}`;
}

function targetNote(t: Target | undefined): string {
  if (!t) return '';
  const op = t.kind === 'max' ? '<=' : '>=';
  return `${op} ${t.limit}${t.unit}  ${t.pass ? 'PASS' : 'FAIL'}`;
}

export function formatTable(s: Summary, runs: number): string {
  const t = (name: string): Target | undefined => s.targets.find((x) => x.name === name);
  const lines: string[] = [];
  lines.push(`Medians of ${runs} run(s). Latencies in ms; "added" = path minus direct (paired per round).`);
  lines.push(row('', ['direct', 'floor', 'gateway'], 'gateway target'));
  const tp = s.throughputRps;
  lines.push(row('throughput @64 conns (req/s)', [f(tp.direct, 0), f(tp.floor, 0), f(tp.gateway, 0)]));
  lines.push(row('  gateway / floor', [NONE, NONE, `${f(s.gatewayFloorRatio * 100, 1)}%`], targetNote(t('throughput ratio'))));
  lines.push(row('CPU per request (ms)', [NONE, f(s.cpuMsPerRequest.floor, 3), f(s.cpuMsPerRequest.gateway, 3)]));
  if (s.gateways.length > 1) {
    lines.push(row('  gateway build, LOG_LEVEL', ['req/s', '/ floor', 'CPU ms'], '+CPU vs gateway (error)'));
    for (const g of s.gateways) {
      const label = `  ${g.name.replace(/ info$/, '')} ${g.logLevel}`;
      const note = g.name === 'gateway' ? '' : `${f(g.addedCpuMsPerRequest, 3)}${g.stdoutFile ? '   stdout to a file' : ''}`;
      lines.push(row(label, [f(g.throughputRps, 0), `${f(g.gatewayFloorRatio * 100, 1)}%`, f(g.cpuMsPerRequest, 3)], note));
    }
  }
  for (const l of s.latency) {
    const r = l.offeredRps;
    lines.push(row(`latency @${r} req/s p50`, [f(l.p50Ms.direct, 3), f(l.p50Ms.floor, 3), f(l.p50Ms.gateway, 3)]));
    lines.push(row(`latency @${r} req/s p99`, [f(l.p99Ms.direct, 3), f(l.p99Ms.floor, 3), f(l.p99Ms.gateway, 3)]));
    lines.push(row(`  added p50 @${r}`, [NONE, f(l.addedP50Ms.floor, 3), f(l.addedP50Ms.gateway, 3)], targetNote(t(`added p50 @${r}`))));
    lines.push(row(`  added p99 @${r}`, [NONE, f(l.addedP99Ms.floor, 3), f(l.addedP99Ms.gateway, 3)], targetNote(t(`added p99 @${r}`))));
    lines.push(row(`  achieved req/s @${r}`, [f(l.achievedRps.direct, 1), f(l.achievedRps.floor, 1), f(l.achievedRps.gateway, 1)]));
  }
  const st = s.stream;
  lines.push(row(`stream TTFB p50 (${st.chunks} chunks)`, [f(st.p50Ms.direct, 3), f(st.p50Ms.floor, 3), f(st.p50Ms.gateway, 3)]));
  lines.push(row('stream TTFB p99', [f(st.p99Ms.direct, 3), f(st.p99Ms.floor, 3), f(st.p99Ms.gateway, 3)]));
  lines.push(row('  added TTFB p50', [NONE, f(st.addedP50Ms.floor, 3), f(st.addedP50Ms.gateway, 3)], targetNote(t('added stream TTFB p50'))));
  lines.push(row('  added TTFB p99', [NONE, f(st.addedP99Ms.floor, 3), f(st.addedP99Ms.gateway, 3)]));
  const gc = st.gatewayContentChunks;
  const chunkCell = gc.min === gc.max ? String(gc.min) : `${gc.min}-${gc.max}`;
  lines.push(
    row('  gateway content chunks', [NONE, NONE, chunkCell], `expected ${st.chunks}: ${gc.mismatches === 0 ? 'OK' : `${gc.mismatches} streams differ`}`),
  );
  lines.push(row('cold start to 1st completion (ms)', [NONE, NONE, f(s.coldStartMs, 0)], targetNote(t('cold start'))));
  lines.push(row('peak RSS (MB)', [NONE, f(s.peakRssMb.floor, 1), f(s.peakRssMb.gateway, 1)], targetNote(t('peak RSS'))));
  const failed = s.targets.filter((x) => !x.pass).map((x) => x.name);
  lines.push(failed.length === 0 ? 'All gateway targets met.' : `Targets missed: ${failed.join(', ')}`);
  return lines.join('\n');
}
