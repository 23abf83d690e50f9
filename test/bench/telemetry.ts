// The "telemetry" section: what exporting traces and GenAI metrics over OTLP costs. Two gateway
// processes on one fake OpenAI upstream, one without an endpoint (nothing of the SDK loaded) and
// one exporting over http/protobuf to a sink in this process that answers 200 and counts what it
// got. Per round, in alternating order, a closed-loop wrk run per gateway: throughput, gateway
// CPU ms per request and latency p99; "added" is export-on minus export-off in the same round.
// A shared machine's speed drifts by a fifth between consecutive runs of one gateway, so the
// section runs ROUNDS_PER_RUN short rounds per BENCH_RUNS and reports medians of the per-round
// differences and ratios, with their range.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort, type Child } from './children';
import { cpuTimeMs } from './procstat';
import { spawnGatewayWithEnv, startUpstream, waitHealthy, type BenchPaths } from './processes';
import { median } from './stats';
import { checkWrkErrors, warn } from './warnings';
import { runWrk } from './wrk';

export interface TelemetryOptions {
  dirs: BenchPaths;
  gatewayEntry: string;
  gatewayAuth: string;
  runs: number;
  durationS: number;
}

interface RowResult {
  rps: number;
  cpuMsPerRequest: number;
  p99Ms: number;
}

export interface TelemetryResult {
  config: { rounds: number; durationS: number; connections: number };
  summary: { off: RowResult; on: RowResult; addedCpuMs: number; rpsRatio: number; rpsRatioRange: [number, number] };
  /** What the sink received over the whole section. */
  sink: { exports: number; bytes: number };
}

const CONNECTIONS = 64;
const ROUNDS_PER_RUN = 3;
const WRK_THREADS = 2;
const BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hi' }] });

/** An OTLP/HTTP endpoint that accepts everything, counting exports and bytes. */
async function startSink(): Promise<{ url: string; counts: { exports: number; bytes: number }; server: Server }> {
  const counts = { exports: 0, bytes: 0 };
  const server = createServer((req, res) => {
    req.on('data', (c: Buffer) => {
      counts.bytes += c.length;
    });
    req.on('end', () => {
      counts.exports += 1;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, counts, server };
}

export async function runTelemetry(o: TelemetryOptions): Promise<TelemetryResult> {
  const [upstream, sink] = await Promise.all([startUpstream(o.dirs), startSink()]);
  const base = { OPENAI_BASE_URL: upstream.url, OPENAI_API_KEY: 'sk-test' };
  const start = async (label: 'off' | 'on', extra: Record<string, string>): Promise<{ child: Child; url: string }> => {
    const port = await freePort();
    const child = spawnGatewayWithEnv(o.dirs, o.gatewayEntry, port, { ...base, ...extra }, `gateway-telemetry-${label}`);
    const url = `http://127.0.0.1:${port}`;
    await waitHealthy(child, url, 30_000);
    return { child, url };
  };
  const off = await start('off', {});
  const on = await start('on', { OTLP_ENDPOINT: sink.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' });
  const wrkAt = (url: string, durationS: number) =>
    runWrk({
      url: `${url}/v1/chat/completions`,
      auth: o.gatewayAuth,
      body: BODY,
      threads: WRK_THREADS,
      connections: CONNECTIONS,
      durationS,
      luaDir: o.dirs.benchDir,
    });
  try {
    for (const g of [off, on]) await wrkAt(g.url, 1); // warm-up
    const rounds: Array<{ off: RowResult; on: RowResult }> = [];
    const roundCount = o.runs * ROUNDS_PER_RUN;
    for (let r = 0; r < roundCount; r++) {
      const round = {} as { off: RowResult; on: RowResult };
      const order: Array<['off' | 'on', { child: Child; url: string }]> =
        r % 2 === 0
          ? [
              ['off', off],
              ['on', on],
            ]
          : [
              ['on', on],
              ['off', off],
            ];
      for (const [label, g] of order) {
        const cpu0 = cpuTimeMs(g.child.pid);
        const wrk = await wrkAt(g.url, o.durationS);
        const cpu1 = cpuTimeMs(g.child.pid);
        checkWrkErrors(`telemetry export ${label}`, wrk);
        round[label] = { rps: wrk.rps, cpuMsPerRequest: (cpu1 - cpu0) / Math.max(1, wrk.requests), p99Ms: wrk.latencyMs.p99 };
      }
      rounds.push(round);
      console.log(
        `telemetry ${r + 1}/${roundCount}: off ${round.off.rps.toFixed(0)} req/s ${round.off.cpuMsPerRequest.toFixed(4)} ms CPU, ` +
          `on ${round.on.rps.toFixed(0)} req/s ${round.on.cpuMsPerRequest.toFixed(4)} ms CPU`,
      );
    }
    if (sink.counts.exports === 0) warn('telemetry: the exporting gateway sent the sink nothing');
    const pick = (label: 'off' | 'on'): RowResult => ({
      rps: median(rounds.map((x) => x[label].rps)),
      cpuMsPerRequest: median(rounds.map((x) => x[label].cpuMsPerRequest)),
      p99Ms: median(rounds.map((x) => x[label].p99Ms)),
    });
    const ratios = rounds.map((x) => x.on.rps / x.off.rps);
    return {
      config: { rounds: roundCount, durationS: o.durationS, connections: CONNECTIONS },
      summary: {
        off: pick('off'),
        on: pick('on'),
        addedCpuMs: median(rounds.map((x) => x.on.cpuMsPerRequest - x.off.cpuMsPerRequest)),
        rpsRatio: median(ratios),
        rpsRatioRange: [Math.min(...ratios), Math.max(...ratios)],
      },
      sink: { ...sink.counts },
    };
  } finally {
    await Promise.all([off.child.stop(), on.child.stop(), upstream.child.stop()]);
    await new Promise<void>((resolve) => sink.server.close(() => resolve()));
  }
}

export function formatTelemetryTable(t: TelemetryResult): string {
  const row = (label: string, r: RowResult) => `| ${label} | ${r.rps.toFixed(0)} | ${r.cpuMsPerRequest.toFixed(4)} | ${r.p99Ms.toFixed(2)} |`;
  const { summary: s } = t;
  const cpuVerdict = s.addedCpuMs <= 0.05 ? 'PASS' : 'FAIL';
  const rpsVerdict = s.rpsRatio >= 0.9 ? 'PASS' : 'FAIL';
  return [
    `telemetry (medians of ${t.config.rounds} rounds; ${t.config.durationS} s per run at ${t.config.connections} connections; OTLP http/protobuf to a local sink)`,
    '| gateway | req/s | gateway CPU ms/req | latency p99 ms |',
    '|---|---|---|---|',
    row('export off', s.off),
    row('export on', s.on),
    `added CPU per request ${(s.addedCpuMs * 1000).toFixed(1)} µs (target ≤ 50 µs: ${cpuVerdict}); throughput ${(s.rpsRatio * 100).toFixed(1)} % of export off (rounds ${(s.rpsRatioRange[0] * 100).toFixed(0)}–${(s.rpsRatioRange[1] * 100).toFixed(0)} %; target ≥ 90 %: ${rpsVerdict}); the sink got ${t.sink.exports} exports, ${t.sink.bytes} bytes`,
  ].join('\n');
}
