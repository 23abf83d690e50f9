// The "telemetry" section: what exporting traces and GenAI metrics over OTLP costs. Three gateway
// processes on one fake OpenAI upstream: two without an endpoint (nothing of the SDK loaded; the
// second is a control) and one exporting over http/protobuf to a sink in this process that
// answers 200 and counts what it got. Per round, in rotating order with a pause between runs, a
// closed-loop wrk run per gateway: throughput, gateway CPU ms per request (its export worker
// included) and latency p99; "added" is export-on minus export-off in the same round.
// A shared machine's speed drifts by a fifth between consecutive runs of one gateway, so the
// section runs ROUNDS_PER_RUN short rounds per BENCH_RUNS and reports medians of the per-round
// differences and ratios, with their range, and the control's ratio as the noise floor. The
// verdict compares export on with both export-off gateways of its round (their mean), the
// reference least moved by either one's noise; the ratio to each is reported beside it.
// A fourth run per round asks where a loss comes from: the first export-off gateway again, while
// a bystander process (telemetry-bystander.ts) does the export's work for it — makes and exports
// the same spans at the rate export on last ran at — so the gateway's path is untouched and only
// the CPU is used. Its ratio to export off is what that much work anywhere on this machine costs.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort, sleep, type Child } from './children';
import { cpuTimeMs } from './procstat';
import { spawnGatewayWithEnv, startTelemetryBystander, startUpstream, waitHealthy, type BenchPaths } from './processes';
import { median, range } from './stats';
import { checkWrkErrors, warn } from './warnings';
import { runWrk } from './wrk';
import { measureExportThreads, type ThreadCost } from './telemetry-threads';

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
  summary: {
    off: RowResult;
    /** The second gateway without export. */
    control: RowResult;
    on: RowResult;
    /** Export off (the first gateway) while the bystander does the export's work beside it. */
    bystander: RowResult;
    addedCpuMs: number;
    /** Export on's throughput against the mean of the two export-off gateways' in its round: the verdict's. */
    rpsRatio: number;
    rpsRatioRange: [number, number];
    /** Export on's throughput against each export-off gateway alone. */
    rpsRatioToOff: number;
    rpsRatioToControl: number;
    /** The control's throughput against export off's: how far two identical gateways differ here. */
    controlRatio: number;
    controlRatioRange: [number, number];
    /** Export off beside the bystander against export off alone: what the same work costs from outside the gateway. */
    bystanderRatio: number;
    bystanderRatioRange: [number, number];
    /** The bystander's CPU per request it stood for, µs: that it did as much work as the export. */
    bystanderCpuUs: number;
  };
  /** What the sink received over the whole section. */
  sink: { exports: number; bytes: number };
  /** In process: what the request path's thread and the process pay per request, export inline and in the worker. */
  threads: Record<'inline' | 'worker', ThreadCost>;
}

const CONNECTIONS = 64;
const ROUNDS_PER_RUN = 8;
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

type Label = 'off' | 'control' | 'on' | 'bystander';
const LABELS: readonly Label[] = ['off', 'control', 'on', 'bystander'];
/**
 * Run orders, one per round in turn (a balanced Latin square): each run is in each place once,
 * and follows each other run once.
 */
const ORDERS: readonly Label[][] = [
  ['off', 'control', 'bystander', 'on'],
  ['control', 'on', 'off', 'bystander'],
  ['on', 'bystander', 'control', 'off'],
  ['bystander', 'off', 'on', 'control'],
];
/** Pause between runs, so what one gateway does after its load (export, GC) is not counted against the next. */
const SETTLE_MS = 1000;

export async function runTelemetry(o: TelemetryOptions): Promise<TelemetryResult> {
  const sink = await startSink();
  // First, while nothing else runs: the in-process measure of each export thread (its bytes are not the gateways').
  const threads = await measureExportThreads(sink);
  sink.counts.bytes = 0;
  sink.counts.exports = 0;
  const upstream = await startUpstream(o.dirs);
  const base = { OPENAI_BASE_URL: upstream.url, OPENAI_API_KEY: 'sk-test' };
  const start = async (label: Label, extra: Record<string, string>): Promise<{ child: Child; url: string }> => {
    const port = await freePort();
    const child = spawnGatewayWithEnv(o.dirs, o.gatewayEntry, port, { ...base, ...extra }, `gateway-telemetry-${label}`);
    const url = `http://127.0.0.1:${port}`;
    await waitHealthy(child, url, 30_000);
    return { child, url };
  };
  const gateways: Record<Exclude<Label, 'bystander'>, { child: Child; url: string }> = {
    off: await start('off', {}),
    // A second gateway without export: how far two identical gateways differ here is the noise floor.
    control: await start('control', {}),
    on: await start('on', { OTLP_ENDPOINT: sink.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }),
  };
  // A sink of its own, so the section's counts stay the exporting gateway's.
  const bystanderSink = await startSink();
  const bystander = await startTelemetryBystander(o.dirs, bystanderSink.url);
  const setRate = async (rate: number): Promise<void> => {
    const ok = bystander.waitForLine((l) => l === 'ok', 5_000);
    bystander.writeLine(JSON.stringify({ rate }));
    await ok;
  };
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
    let onRps = 0; // the rate the bystander works at: export on's last throughput
    for (const [label, g] of Object.entries(gateways)) {
      const warm = await wrkAt(g.url, 1); // warm-up
      if (label === 'on') onRps = warm.rps;
    }
    const rounds: Array<Record<Label, RowResult>> = [];
    const bystanderCpuUs: number[] = [];
    const roundCount = o.runs * ROUNDS_PER_RUN;
    for (let r = 0; r < roundCount; r++) {
      const round = {} as Record<Label, RowResult>;
      for (const label of ORDERS[r % ORDERS.length] ?? []) {
        await sleep(SETTLE_MS);
        const g = gateways[label === 'bystander' ? 'off' : label];
        const rate = onRps;
        if (label === 'bystander') await setRate(rate);
        const cpu0 = cpuTimeMs(g.child.pid);
        const side0 = cpuTimeMs(bystander.pid);
        const wrk = await wrkAt(g.url, o.durationS);
        const cpu1 = cpuTimeMs(g.child.pid);
        if (label === 'bystander') {
          bystanderCpuUs.push(((cpuTimeMs(bystander.pid) - side0) * 1000) / Math.max(1, rate * o.durationS));
          await setRate(0);
        }
        checkWrkErrors(`telemetry ${label}`, wrk);
        if (label === 'on') onRps = wrk.rps;
        round[label] = { rps: wrk.rps, cpuMsPerRequest: (cpu1 - cpu0) / Math.max(1, wrk.requests), p99Ms: wrk.latencyMs.p99 };
      }
      rounds.push(round);
      console.log(
        `telemetry ${r + 1}/${roundCount}: ` +
          LABELS.map((l) => `${l} ${round[l].rps.toFixed(0)} req/s ${round[l].cpuMsPerRequest.toFixed(4)} ms CPU`).join(', '),
      );
    }
    if (sink.counts.exports === 0) warn('telemetry: the exporting gateway sent the sink nothing');
    const pick = (label: Label): RowResult => ({
      rps: median(rounds.map((x) => x[label].rps)),
      cpuMsPerRequest: median(rounds.map((x) => x[label].cpuMsPerRequest)),
      p99Ms: median(rounds.map((x) => x[label].p99Ms)),
    });
    const ratios = rounds.map((x) => x.on.rps / ((x.off.rps + x.control.rps) / 2));
    const controlRatios = rounds.map((x) => x.control.rps / x.off.rps);
    const bystanderRatios = rounds.map((x) => x.bystander.rps / x.off.rps);
    return {
      config: { rounds: roundCount, durationS: o.durationS, connections: CONNECTIONS },
      summary: {
        off: pick('off'),
        control: pick('control'),
        on: pick('on'),
        bystander: pick('bystander'),
        addedCpuMs: median(rounds.map((x) => x.on.cpuMsPerRequest - x.off.cpuMsPerRequest)),
        rpsRatio: median(ratios),
        rpsRatioRange: range(ratios),
        rpsRatioToOff: median(rounds.map((x) => x.on.rps / x.off.rps)),
        rpsRatioToControl: median(rounds.map((x) => x.on.rps / x.control.rps)),
        controlRatio: median(controlRatios),
        controlRatioRange: range(controlRatios),
        bystanderRatio: median(bystanderRatios),
        bystanderRatioRange: range(bystanderRatios),
        bystanderCpuUs: median(bystanderCpuUs),
      },
      sink: { ...sink.counts },
      threads,
    };
  } finally {
    await Promise.all([...Object.values(gateways).map((g) => g.child.stop()), bystander.stop(), upstream.child.stop()]);
    await Promise.all([sink, bystanderSink].map((k) => new Promise<void>((resolve) => k.server.close(() => resolve()))));
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
    row('export off (control)', s.control),
    row('export on', s.on),
    row('export off, export work beside it', s.bystander),
    `added CPU per request ${(s.addedCpuMs * 1000).toFixed(1)} µs (target ≤ 50 µs: ${cpuVerdict}); throughput ${(s.rpsRatio * 100).toFixed(1)} % of export off, both gateways (rounds ${(s.rpsRatioRange[0] * 100).toFixed(0)}–${(s.rpsRatioRange[1] * 100).toFixed(0)} %; target ≥ 90 %: ${rpsVerdict}), ${(s.rpsRatioToOff * 100).toFixed(1)} % of the first alone, ${(s.rpsRatioToControl * 100).toFixed(1)} % of the control alone; noise floor: the control at ${(s.controlRatio * 100).toFixed(1)} % of export off (rounds ${(s.controlRatioRange[0] * 100).toFixed(0)}–${(s.controlRatioRange[1] * 100).toFixed(0)} %); the sink got ${t.sink.exports} exports, ${t.sink.bytes} bytes`,
    `where the loss comes from: export off with a bystander process doing the export's work beside it (${s.bystanderCpuUs.toFixed(1)} µs of its CPU per request it stood for) ran at ${(s.bystanderRatio * 100).toFixed(1)} % of export off alone (rounds ${(s.bystanderRatioRange[0] * 100).toFixed(0)}–${(s.bystanderRatioRange[1] * 100).toFixed(0)} %)`,
    '',
    "in process, two spans per request at 6,000 req/s: µs per request on the request path's thread / process CPU (worker included) / OTLP bytes",
    ...(['inline', 'worker'] as const).map((k) => {
      const c = t.threads[k];
      return `- export ${k === 'inline' ? "on the request path's thread (Lambda)" : 'in the worker (local server)'}: ${c.requestThreadUs.toFixed(2)} / ${c.processCpuUs.toFixed(2)} µs, ${c.bytesPerRequest.toFixed(0)} bytes`;
    }),
  ].join('\n');
}
