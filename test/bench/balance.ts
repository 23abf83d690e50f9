// The "balance" section: what balancing a route costs on the hot path. One gateway process, one
// fake OpenAI upstream process; eight named `openai`-type providers all pointing at that fake, and
// three routes over them: one deployment (planned from the memo, as an unbalanced route), eight
// weighted (weights 1..8) and eight by least latency. Per round, in rotating order, a closed-loop
// wrk run per route: throughput and gateway CPU ms per request; "added" is a row minus the
// one-deployment row of the same round.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, type Child } from './children';
import { request } from './http-util';
import { cpuTimeMs } from './procstat';
import { spawnGatewayWithEnv, startUpstream, waitHealthy, type BenchPaths } from './processes';
import { median } from './stats';
import { checkWrkErrors, warn } from './warnings';
import { runWrk } from './wrk';

export interface BalanceOptions {
  dirs: BenchPaths;
  gatewayEntry: string;
  gatewayAuth: string;
  runs: number;
  durationS: number;
}

interface RowResult {
  rps: number;
  cpuMsPerRequest: number;
  /** This row's CPU ms/req minus the one-deployment row's, in the same round. */
  addedCpuMs: number;
}

export interface BalanceResult {
  config: { runs: number; durationS: number; connections: number; deployments: number };
  /** Medians over the rounds, per row. */
  summary: Record<string, RowResult>;
  /** Which deployments answered the smoke requests of each row. */
  spread: Record<string, Record<string, number>>;
}

const DEPLOYMENTS = 8;
const CONNECTIONS = 64;
const WRK_THREADS = 2;
const SMOKE_REQUESTS = 36;
const names = Array.from({ length: DEPLOYMENTS }, (_, i) => `d${i + 1}`);
const ROWS = {
  '1 deployment': 'one',
  [`${DEPLOYMENTS} deployments, weighted`]: 'weighted',
  [`${DEPLOYMENTS} deployments, least-latency`]: 'latency',
} as const;
const BASELINE = '1 deployment';

function routingDocument(upstreamUrl: string): unknown {
  const targets = names.map((provider, i) => ({ provider, model: 'gpt-4o-mini', weight: i + 1 }));
  return {
    providers: Object.fromEntries(names.map((name) => [name, { type: 'openai', base_url: upstreamUrl, api_key_env: 'BENCH_UPSTREAM_KEY' }])),
    routes: {
      one: { targets: [{ provider: 'd1', model: 'gpt-4o-mini' }] },
      weighted: { strategy: 'weighted', targets },
      latency: { strategy: 'least-latency', targets: targets.map(({ provider, model }) => ({ provider, model })) },
    },
  };
}

const body = (model: string): string => JSON.stringify({ model, messages: [{ role: 'user', content: 'Say hi' }] });

/** Smoke requests: every answer is a 200 from one of the deployments; returns how many each served. */
async function smoke(url: string, auth: string, model: string): Promise<Record<string, number>> {
  const served: Record<string, number> = {};
  for (let i = 0; i < SMOKE_REQUESTS; i++) {
    const r = await request(`${url}/v1/chat/completions`, { method: 'POST', body: body(model), headers: { authorization: auth }, timeoutMs: 10_000 });
    if (r.status !== 200) throw new Error(`balance smoke (${model}): ${r.status} ${r.body}`);
    const provider = (JSON.parse(r.body) as { x_gateway?: { provider?: string } }).x_gateway?.provider ?? '?';
    served[provider] = (served[provider] ?? 0) + 1;
  }
  return served;
}

export async function runBalance(o: BalanceOptions): Promise<BalanceResult> {
  const upstream = await startUpstream(o.dirs);
  const configFile = path.join(o.dirs.outDir, 'balance-config.json');
  writeFileSync(configFile, JSON.stringify(routingDocument(upstream.url), null, 2));
  const port = await freePort();
  const env = { GATEWAY_CONFIG: configFile, BENCH_UPSTREAM_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url, OPENAI_API_KEY: 'sk-test' };
  const gateway: Child = spawnGatewayWithEnv(o.dirs, o.gatewayEntry, port, env, 'gateway-balance');
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(gateway, url, 30_000);

  const spread: Record<string, Record<string, number>> = {};
  for (const [row, model] of Object.entries(ROWS)) {
    spread[row] = await smoke(url, o.gatewayAuth, model);
    if (model !== 'one' && Object.keys(spread[row] ?? {}).length < 2) warn(`balance ${row}: the smoke requests all went to one deployment`);
  }
  const wrkFor = (model: string, durationS: number) =>
    runWrk({
      url: `${url}/v1/chat/completions`,
      auth: o.gatewayAuth,
      body: body(model),
      threads: WRK_THREADS,
      connections: CONNECTIONS,
      durationS,
      luaDir: o.dirs.benchDir,
    });
  for (const model of Object.values(ROWS)) await wrkFor(model, 1); // warm-up

  const rows = Object.keys(ROWS) as (keyof typeof ROWS)[];
  const raw: Record<string, RowResult[]> = {};
  for (let r = 0; r < o.runs; r++) {
    const round: Record<string, { rps: number; cpu: number }> = {};
    // Rotating order, so no row always runs first (or right after the warm-up).
    for (let k = 0; k < rows.length; k++) {
      const row = rows[(r + k) % rows.length] as keyof typeof ROWS;
      const cpu0 = cpuTimeMs(gateway.pid);
      const wrk = await wrkFor(ROWS[row], o.durationS);
      const cpu1 = cpuTimeMs(gateway.pid);
      checkWrkErrors(`balance ${row}`, wrk);
      round[row] = { rps: wrk.rps, cpu: (cpu1 - cpu0) / Math.max(1, wrk.requests) };
    }
    const baseline = round[BASELINE]?.cpu ?? Number.NaN;
    for (const row of rows) {
      const x = round[row] as { rps: number; cpu: number };
      (raw[row] ??= []).push({ rps: x.rps, cpuMsPerRequest: x.cpu, addedCpuMs: x.cpu - baseline });
      console.log(`balance ${row} ${r + 1}/${o.runs}: ${x.rps.toFixed(0)} req/s, ${x.cpu.toFixed(4)} ms CPU/req`);
    }
  }
  await gateway.stop();
  await upstream.child.stop();
  const summary: Record<string, RowResult> = {};
  for (const [row, results] of Object.entries(raw)) {
    summary[row] = {
      rps: median(results.map((x) => x.rps)),
      cpuMsPerRequest: median(results.map((x) => x.cpuMsPerRequest)),
      addedCpuMs: median(results.map((x) => x.addedCpuMs)),
    };
  }
  return { config: { runs: o.runs, durationS: o.durationS, connections: CONNECTIONS, deployments: DEPLOYMENTS }, summary, spread };
}

export function formatBalanceTable(b: BalanceResult): string {
  const rows = Object.entries(b.summary).map(([row, r]) => {
    const added = row === BASELINE ? '–' : `${r.addedCpuMs >= 0 ? '+' : ''}${(r.addedCpuMs * 1000).toFixed(1)}`;
    const spread = Object.entries(b.spread[row] ?? {})
      .sort(([a], [c]) => a.localeCompare(c, 'en', { numeric: true }))
      .map(([name, n]) => `${name} ${n}`)
      .join(', ');
    return `| ${row} | ${r.rps.toFixed(0)} | ${r.cpuMsPerRequest.toFixed(4)} | ${added} | ${spread} |`;
  });
  return [
    `balance (medians of ${b.config.runs}; ${b.config.durationS} s per run at ${b.config.connections} connections; ${b.config.deployments} named providers on one fake)`,
    `| route | req/s | gateway CPU ms/req | added CPU µs/req vs 1 deployment | smoke requests served (${SMOKE_REQUESTS}) |`,
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
