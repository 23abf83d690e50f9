// Translation section: raw per-round data → medians per provider (what goes to results.json
// under "translation") and the compact table printed after the core table.
import { PROVIDERS, type PerProvider, type ProviderName } from './provider-names';
import { median } from './stats';
import type { StreamRun } from './stream-ttfb';
import type { ThroughputRound } from './summarize';

export const BASELINE: ProviderName = 'openai';

/** The two paths measured per provider. */
export interface DirectAndGateway<T> {
  direct: T;
  gateway: T;
}

export interface TranslationRaw {
  throughput: Array<PerProvider<DirectAndGateway<ThroughputRound>>>;
  streams: Array<PerProvider<DirectAndGateway<StreamRun>>>;
  streamChunks: number;
  gatewayPeakRssMb: PerProvider<number>;
}

export interface ChunkCheck {
  min: number;
  max: number;
  /** Streams that failed or carried a different number of content chunks. */
  mismatches: number;
}

export interface ProviderRow {
  gatewayModel: string;
  throughputRps: DirectAndGateway<number>;
  gatewayCpuMsPerRequest: number;
  /** Gateway CPU ms/request minus the OpenAI pass-through's: median of the per-round differences. */
  translationCpuMsPerRequest: number;
  upstreamCpuMsPerRequest: DirectAndGateway<number>;
  streamTtfbP50Ms: DirectAndGateway<number>;
  streamTtfbP99Ms: DirectAndGateway<number>;
  /** Gateway minus direct, median of the per-round differences. */
  addedTtfbP50Ms: number;
  addedTtfbP99Ms: number;
  contentChunks: DirectAndGateway<ChunkCheck>;
  gatewayPeakRssMb: number;
}

export interface TranslationSummary {
  baseline: ProviderName;
  streamChunks: number;
  providers: PerProvider<ProviderRow>;
}

function chunkCheck(runs: StreamRun[]): ChunkCheck {
  const ok = runs.filter((x) => x.samples > 0);
  return {
    min: ok.length > 0 ? Math.min(...ok.map((x) => x.minContentChunks)) : 0,
    max: Math.max(0, ...runs.map((x) => x.maxContentChunks)),
    mismatches: runs.reduce((n, x) => n + x.chunkMismatches + x.badStatus, 0),
  };
}

export function summarizeTranslation(raw: TranslationRaw, models: PerProvider<string>): TranslationSummary {
  const both = <R, T>(rounds: Array<PerProvider<DirectAndGateway<R>>>, p: ProviderName, f: (x: R) => T): DirectAndGateway<T[]> => ({
    direct: rounds.map((r) => f(r[p].direct)),
    gateway: rounds.map((r) => f(r[p].gateway)),
  });
  const med = (xs: DirectAndGateway<number[]>): DirectAndGateway<number> => ({ direct: median(xs.direct), gateway: median(xs.gateway) });
  const pairedDiff = (a: number[], b: number[]): number => median(a.map((x, i) => x - (b[i] ?? Number.NaN)));

  const baseCpu = raw.throughput.map((r) => r[BASELINE].gateway.cpuMsPerRequest);
  const providers = {} as PerProvider<ProviderRow>;
  for (const p of PROVIDERS) {
    const cpu = raw.throughput.map((r) => r[p].gateway.cpuMsPerRequest);
    const p50 = both(raw.streams, p, (x) => x.p50);
    const p99 = both(raw.streams, p, (x) => x.p99);
    const runs = both(raw.streams, p, (x) => x);
    providers[p] = {
      gatewayModel: models[p],
      throughputRps: med(both(raw.throughput, p, (x) => x.wrk.rps)),
      gatewayCpuMsPerRequest: median(cpu),
      // Paired per round: both processes were measured within the same round's conditions.
      translationCpuMsPerRequest: pairedDiff(cpu, baseCpu),
      upstreamCpuMsPerRequest: med(both(raw.throughput, p, (x) => x.upstreamCpuMsPerRequest)),
      streamTtfbP50Ms: med(p50),
      streamTtfbP99Ms: med(p99),
      addedTtfbP50Ms: pairedDiff(p50.gateway, p50.direct),
      addedTtfbP99Ms: pairedDiff(p99.gateway, p99.direct),
      contentChunks: { direct: chunkCheck(runs.direct), gateway: chunkCheck(runs.gateway) },
      gatewayPeakRssMb: raw.gatewayPeakRssMb[p],
    };
  }
  return { baseline: BASELINE, streamChunks: raw.streamChunks, providers };
}

const f = (x: number, d: number): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const signed = (x: number, d: number): string => (Number.isFinite(x) && x >= 0 ? `+${x.toFixed(d)}` : f(x, d));

const COLUMNS = ['direct req/s', 'gw req/s', 'gw CPU ms/req', 'translation', 'TTFB direct', 'TTFB gw', 'added TTFB', 'gw chunks'];

function row(label: string, cells: string[]): string {
  return `${label.padEnd(10)}${cells.map((c, i) => c.padStart(Math.max(10, (COLUMNS[i] ?? '').length + 3))).join('')}`;
}

function chunkCell(c: ChunkCheck, expected: number): string {
  const range = c.min === c.max ? String(c.min) : `${c.min}-${c.max}`;
  return c.mismatches === 0 && c.min === expected && c.max === expected ? `${range} OK` : `${range} BAD`;
}

export function formatTranslationTable(s: TranslationSummary, o: { runs: number; durationS: number; connections: number }): string {
  const lines: string[] = [];
  lines.push(`Translation overhead: one gateway process per provider, medians of ${o.runs} run(s) (wrk ${o.durationS} s, ${o.connections} conns).`);
  lines.push(row('provider', COLUMNS));
  for (const p of PROVIDERS) {
    const r = s.providers[p];
    lines.push(
      row(p, [
        f(r.throughputRps.direct, 0),
        f(r.throughputRps.gateway, 0),
        f(r.gatewayCpuMsPerRequest, 3),
        p === s.baseline ? 'baseline' : signed(r.translationCpuMsPerRequest, 3),
        f(r.streamTtfbP50Ms.direct, 3),
        f(r.streamTtfbP50Ms.gateway, 3),
        signed(r.addedTtfbP50Ms, 3),
        chunkCell(r.contentChunks.gateway, s.streamChunks),
      ]),
    );
  }
  lines.push(`"translation" = gateway CPU ms/req minus the ${s.baseline} pass-through's (paired per round).`);
  lines.push(`TTFB = stream time to first event, p50 in ms (${s.streamChunks}-chunk stream); "added" = gateway minus direct (paired per round).`);
  lines.push("Direct paths speak each provider's own API; bedrock direct replays one SigV4-signed request per round (the fake verifies each).");
  const bad = PROVIDERS.filter((p) => {
    const c = s.providers[p].contentChunks;
    return chunkCell(c.gateway, s.streamChunks).endsWith('BAD') || chunkCell(c.direct, s.streamChunks).endsWith('BAD');
  });
  lines.push(
    bad.length === 0 ? `All streams carried ${s.streamChunks} content chunks, direct and through the gateway.` : `Chunk count wrong for: ${bad.join(', ')}`,
  );
  return lines.join('\n');
}
