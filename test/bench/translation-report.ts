// Translation section: raw per-round data → medians per row (what goes to results.json under
// "translation") and the compact table printed after the core table. A row is one client API
// served by one provider: chat completions for every provider, and the Responses API for OpenAI
// and Anthropic.
import { PROVIDERS, type PerProvider, type ProviderName } from './provider-names';
import type { ClientApi } from './providers';
import { median } from './stats';
import type { StreamRun } from './stream-ttfb';
import type { ThroughputRound } from './summarize';

export interface BenchRow {
  label: string;
  provider: ProviderName;
  api: ClientApi;
}

export const ROWS: readonly BenchRow[] = [
  ...PROVIDERS.map((p): BenchRow => ({ label: p, provider: p, api: 'chat' })),
  { label: 'responses (openai)', provider: 'openai', api: 'responses' },
  { label: 'responses (anthropic)', provider: 'anthropic', api: 'responses' },
  { label: 'messages (anthropic)', provider: 'anthropic', api: 'messages' },
  { label: 'messages (openai)', provider: 'openai', api: 'messages' },
];

/** The OpenAI chat pass-through: every row's "translation" is its CPU over this row's. */
export const BASELINE = 'openai';

/** The two paths measured per row. */
export interface DirectAndGateway<T> {
  direct: T;
  gateway: T;
}

/** One value per row, keyed by the row's label. */
export type PerRow<T> = Record<string, T>;

export interface TranslationRaw {
  throughput: Array<PerRow<DirectAndGateway<ThroughputRound>>>;
  streams: Array<PerRow<DirectAndGateway<StreamRun>>>;
  streamChunks: number;
  /** Per row: the path of the fake's API the gateway called (from the fake's own record). */
  upstreamPaths: PerRow<string>;
  /** One gateway process per provider serves both of its rows. */
  gatewayPeakRssMb: PerProvider<number>;
}

export interface ChunkCheck {
  min: number;
  max: number;
  /** Streams that failed or carried a different number of content chunks. */
  mismatches: number;
  /** Streams whose text was not the one sent, or that ended wrongly (Responses API: see wire-formats.ts). */
  textMismatches: number;
}

export interface RowSummary {
  provider: ProviderName;
  api: ClientApi;
  gatewayModel: string;
  upstreamPath: string;
  throughputRps: DirectAndGateway<number>;
  gatewayCpuMsPerRequest: number;
  /** Gateway CPU ms/request minus the OpenAI chat pass-through's: median of the per-round differences. */
  translationCpuMsPerRequest: number;
  /** Responses rows: gateway CPU ms/request minus the same provider's chat row's (paired per round). */
  overChatCpuMsPerRequest: number | null;
  upstreamCpuMsPerRequest: DirectAndGateway<number>;
  streamTtfbP50Ms: DirectAndGateway<number>;
  streamTtfbP99Ms: DirectAndGateway<number>;
  /** Gateway minus direct, median of the per-round differences. */
  addedTtfbP50Ms: number;
  addedTtfbP99Ms: number;
  contentChunks: DirectAndGateway<ChunkCheck>;
  gatewayPeakRssMb: number;
}

/** How busy the shared machine was while the section ran (its figures mean little without it). */
export interface MachineLoad {
  cores: number;
  /** Average busy cores of the whole machine (the section's own processes included). */
  busyCores: number;
  loadBefore: number[];
  loadAfter: number[];
}

export interface TranslationSummary {
  baseline: string;
  streamChunks: number;
  rows: PerRow<RowSummary>;
}

function chunkCheck(runs: StreamRun[]): ChunkCheck {
  const ok = runs.filter((x) => x.samples > 0);
  return {
    min: ok.length > 0 ? Math.min(...ok.map((x) => x.minContentChunks)) : 0,
    max: Math.max(0, ...runs.map((x) => x.maxContentChunks)),
    mismatches: runs.reduce((n, x) => n + x.chunkMismatches + x.badStatus, 0),
    textMismatches: runs.reduce((n, x) => n + x.textMismatches, 0),
  };
}

const pairedDiff = (a: number[], b: number[]): number => median(a.map((x, i) => x - (b[i] ?? Number.NaN)));

export function summarizeTranslation(raw: TranslationRaw, models: PerProvider<string>): TranslationSummary {
  const both = <R, T>(rounds: Array<PerRow<DirectAndGateway<R>>>, label: string, f: (x: R) => T): DirectAndGateway<T[]> => ({
    direct: rounds.map((r) => f(r[label]!.direct)),
    gateway: rounds.map((r) => f(r[label]!.gateway)),
  });
  const med = (xs: DirectAndGateway<number[]>): DirectAndGateway<number> => ({ direct: median(xs.direct), gateway: median(xs.gateway) });
  const gatewayCpu = (label: string): number[] => raw.throughput.map((r) => r[label]!.gateway.cpuMsPerRequest);

  const baseCpu = gatewayCpu(BASELINE);
  const rows: PerRow<RowSummary> = {};
  for (const { label, provider, api } of ROWS) {
    const cpu = gatewayCpu(label);
    const p50 = both(raw.streams, label, (x) => x.p50);
    const p99 = both(raw.streams, label, (x) => x.p99);
    const runs = both(raw.streams, label, (x) => x);
    rows[label] = {
      provider,
      api,
      gatewayModel: models[provider],
      upstreamPath: raw.upstreamPaths[label] ?? '',
      throughputRps: med(both(raw.throughput, label, (x) => x.wrk.rps)),
      gatewayCpuMsPerRequest: median(cpu),
      // Paired per round: both processes were measured within the same round's conditions.
      translationCpuMsPerRequest: pairedDiff(cpu, baseCpu),
      overChatCpuMsPerRequest: api === 'chat' ? null : pairedDiff(cpu, gatewayCpu(provider)),
      upstreamCpuMsPerRequest: med(both(raw.throughput, label, (x) => x.upstreamCpuMsPerRequest)),
      streamTtfbP50Ms: med(p50),
      streamTtfbP99Ms: med(p99),
      addedTtfbP50Ms: pairedDiff(p50.gateway, p50.direct),
      addedTtfbP99Ms: pairedDiff(p99.gateway, p99.direct),
      contentChunks: { direct: chunkCheck(runs.direct), gateway: chunkCheck(runs.gateway) },
      gatewayPeakRssMb: raw.gatewayPeakRssMb[provider],
    };
  }
  return { baseline: BASELINE, streamChunks: raw.streamChunks, rows };
}

const f = (x: number, d: number): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const signed = (x: number, d: number): string => (Number.isFinite(x) && x >= 0 ? `+${x.toFixed(d)}` : f(x, d));

const COLUMNS = ['direct req/s', 'gw req/s', 'gw CPU ms/req', 'translation', 'vs chat', 'TTFB direct', 'TTFB gw', 'added TTFB', 'gw stream'];
const LABEL_WIDTH = Math.max(...ROWS.map((r) => r.label.length)) + 2;

/** The row's label, the upstream path (left-aligned, as wide as the longest) and the figures. */
function line(label: string, upstream: string, upstreamWidth: number, cells: string[]): string {
  return `${label.padEnd(LABEL_WIDTH)}${upstream.padEnd(upstreamWidth)}${cells.map((c, i) => c.padStart(Math.max(10, (COLUMNS[i] ?? '').length + 3))).join('')}`;
}

/** The upstream path as a column fits it: Bedrock's model id segment elided. */
function shortPath(p: string): string {
  return p.replace(/^\/model\/[^/]+\//, '…/');
}

function chunkCell(c: ChunkCheck, expected: number): string {
  const range = c.min === c.max ? String(c.min) : `${c.min}-${c.max}`;
  return c.mismatches === 0 && c.textMismatches === 0 && c.min === expected && c.max === expected ? `${range} OK` : `${range} BAD`;
}

export function formatTranslationTable(s: TranslationSummary, o: { runs: number; durationS: number; connections: number; machine: MachineLoad }): string {
  const lines: string[] = [];
  const load = (xs: number[]): string => xs.map((x) => x.toFixed(2)).join(' ');
  lines.push(`Translation overhead: one gateway process per provider, medians of ${o.runs} run(s) (wrk ${o.durationS} s, ${o.connections} conns).`);
  lines.push(
    `Machine: ${o.machine.busyCores.toFixed(2)} of ${o.machine.cores} cores busy over the section; load average ${load(o.machine.loadBefore)} before, ${load(o.machine.loadAfter)} after.`,
  );
  const upstreamWidth = Math.max('upstream'.length, ...ROWS.map(({ label }) => shortPath(s.rows[label]!.upstreamPath).length)) + 2;
  lines.push(line('row', 'upstream', upstreamWidth, COLUMNS));
  for (const { label } of ROWS) {
    const r = s.rows[label]!;
    lines.push(
      line(label, shortPath(r.upstreamPath), upstreamWidth, [
        f(r.throughputRps.direct, 0),
        f(r.throughputRps.gateway, 0),
        f(r.gatewayCpuMsPerRequest, 3),
        label === s.baseline ? 'baseline' : signed(r.translationCpuMsPerRequest, 3),
        r.overChatCpuMsPerRequest === null ? '' : signed(r.overChatCpuMsPerRequest, 3),
        f(r.streamTtfbP50Ms.direct, 3),
        f(r.streamTtfbP50Ms.gateway, 3),
        signed(r.addedTtfbP50Ms, 3),
        chunkCell(r.contentChunks.gateway, s.streamChunks),
      ]),
    );
  }
  lines.push(`"upstream" = the fake's API the gateway called; "translation" = gateway CPU ms/req minus the ${s.baseline} chat pass-through's;`);
  lines.push('"vs chat" = a responses or messages row minus the same provider\'s chat row (both paired per round).');
  lines.push(
    `TTFB = stream time to the first event (responses: to the first response.output_text.delta), p50 in ms (${s.streamChunks}-chunk stream); "added" = gateway minus direct (paired per round).`,
  );
  lines.push("Direct paths speak each provider's own API; bedrock direct replays one SigV4-signed request per round (the fake verifies each).");
  const bad = ROWS.filter(({ label }) => {
    const c = s.rows[label]!.contentChunks;
    return chunkCell(c.gateway, s.streamChunks).endsWith('BAD') || chunkCell(c.direct, s.streamChunks).endsWith('BAD');
  }).map((r) => r.label);
  lines.push(
    bad.length === 0
      ? `All streams carried ${s.streamChunks} content chunks and the whole text, direct and through the gateway.`
      : `Chunk count or text wrong for: ${bad.join(', ')}`,
  );
  return lines.join('\n');
}
