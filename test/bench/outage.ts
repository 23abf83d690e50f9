// The "outage" section: what clients see when the shared store dies under load. Per store (Redis,
// then DynamoDB on dynalite): two gateway processes share the store and a fake OpenAI upstream; a
// tenant with a request limit and a budget sends a paced 300 req/s for 20 s, spread over both
// gateways; the store is SIGKILLed at 7.5 s and started again (same port, same data) at 12.5 s.
// Figures: share of 2xx, statuses, latency before / added during the outage, time to recover
// (outage-analysis.ts), the usage totals check (outage-usage.ts) and the gateways' store log lines
// (outage-logs.ts). Each gateway's stdout is kept in .bench/outage-<store>-<A|B>.log.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort, runCommand, startChild, type Child } from './children';
import { request } from './http-util';
import { cpuSnapshot, cpuUse, type CpuUse } from './outage-cpu';
import { analyzeOutage, NORMAL_FACTOR, statusKey, WINDOW_MS, type OutageFigures, type OutageTimes } from './outage-analysis';
import { runPacedLoad, type LoadTarget } from './outage-load';
import { readInstanceLog, type InstanceLog } from './outage-logs';
import { cpuTimeMs } from './procstat';
import { startDynaliteStore, startRedisStore, type KillableStore, type StoreKind } from './outage-stores';
import { settleAndCheck, type UsageCheck, type UsageTotals } from './outage-usage';
import { startUpstream, waitHealthy, type BenchPaths } from './processes';
import { percentile, round } from './stats';
import { warn } from './warnings';

export interface OutageOptions {
  dirs: BenchPaths;
  gatewayEntry: string;
  /** Which stores to run, in this order (BENCH_OUTAGE_STORES; default both). */
  stores: StoreKind[];
  /** Offered req/s (BENCH_OUTAGE_RATE; default OUTAGE.rate). */
  rate: number;
}

export const OUTAGE = {
  /** The figure; BENCH_OUTAGE_RATE overrides it (a slower machine, or to see whether the store is the bottleneck). */
  rate: 300,
  durationS: 20,
  killAtMs: 7_500,
  restartAtMs: 12_500,
  /** Passed to the gateways as STORE_TIMEOUT (their default), and the basis of the latency target. */
  storeTimeoutMs: 150,
  /** A request still unanswered after this counts as a client timeout (status 0). */
  requestTimeoutMs: 10_000,
  /**
   * Seconds of the same paced load before the measured run (connections open, tenant cached,
   * budget lease taken, the store's and the gateways' steady state reached): a cold start would
   * otherwise inflate the pre-outage baseline. Its answers count in the usage check only.
   */
  warmupS: 3,
  windowMs: WINDOW_MS,
  normalFactor: NORMAL_FACTOR,
  targets: { ok2xxPct: 99.5, addedP99Ms: 155, recoveryS: 2 },
  /** High enough never to refuse at the offered rate, so every request takes the limited path. */
  tenant: { id: 'bench-outage', name: 'bench-outage', rate_limit_rpm: 100_000, budget_usd: 1000 },
} as const;

export interface OutageRun {
  store: StoreKind;
  /** os.loadavg() (1, 5, 15 min) right before and right after the load. */
  loadavg: { before: number[]; after: number[] };
  /** Over the load: the machine's busy cores and those of gateway A, gateway B and this (client) process. */
  cpu: CpuUse;
  /** Cores the store process used from the start of the load to the kill (is the store the bottleneck?). */
  storeCoresBeforeKill: number;
  /** Per gateway: ms from "store ready" to its first 'store available again' line after it (null: none). */
  sawStoreBackMs: Array<number | null>;
  /** Kill, restart issued and store ready again, ms after the load's start. */
  times: OutageTimes;
  figures: OutageFigures;
  warmup: { requests: number; ok2xx: number; statuses: Record<string, number>; p50Ms: number; p99Ms: number };
  usage: UsageCheck;
  logs: InstanceLog[];
}

export type OutageConfig = Omit<typeof OUTAGE, 'rate'> & { rate: number };

export interface OutageResult {
  config: OutageConfig;
  /** What was measured: the commit, and uncommitted changes under functions/ and bin/ (others work in this tree too). */
  source: { commit: string; uncommittedFiles: string[] };
  runs: OutageRun[];
}

interface Gateway {
  child: Child;
  url: string;
  logFile: string;
}

// Not chosen by the caller's shell (NODE_OPTIONS, provider keys) so nothing skews a run.
function gatewayEnv(upstreamUrl: string, port: number, store: KillableStore): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  for (const k of ['HOME', 'TMPDIR', 'LANG']) if (process.env[k]) env[k] = process.env[k];
  return {
    ...env,
    ...store.gatewayEnv,
    OPENAI_BASE_URL: upstreamUrl,
    OPENAI_API_KEY: 'sk-test',
    PORT: String(port),
    // warn: the store's state changes and usage retries are logged, access lines are not.
    LOG_LEVEL: 'warn',
    STORE_TIMEOUT: String(OUTAGE.storeTimeoutMs),
    STORE_FAILURE_MODE: 'open',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** A gateway whose stdout goes to a file: `sh` redirects it and execs node (same pid, still tracked). */
async function startGateway(o: OutageOptions, store: KillableStore, upstreamUrl: string, name: string): Promise<Gateway> {
  const port = await freePort();
  const logFile = path.join(o.dirs.outDir, `outage-${store.kind}-${name}.log`);
  writeFileSync(logFile, '');
  const child = startChild(`gateway-${store.kind}-${name}`, 'sh', ['-c', 'f=$1; shift; exec "$@" >>"$f"', 'sh', logFile, process.execPath, o.gatewayEntry], {
    cwd: o.dirs.root,
    env: gatewayEnv(upstreamUrl, port, store),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(child, url, 30_000);
  return { child, url, logFile };
}

/** Creates the bench tenant through the admin API; returns its key as an Authorization value. */
async function createTenant(baseUrl: string): Promise<string> {
  const r = await request(`${baseUrl}/admin/tenants`, { method: 'POST', body: JSON.stringify(OUTAGE.tenant), timeoutMs: 10_000 });
  if (r.status !== 201 && r.status !== 200) throw new Error(`creating the outage tenant failed: ${r.status} ${r.body}`);
  return `Bearer ${(JSON.parse(r.body) as { api_key: string }).api_key}`;
}

/** Every prompt differs, so no answer can come from the cache: each request reaches the upstream and costs. */
const chatBody =
  (tag: string) =>
  (seq: number): string =>
    JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `Say hi (${tag} ${seq})` }] });

/** The paced warm-up; its 2xx answers count towards what the clients saw. */
async function warmUp(rate: number, targets: LoadTarget[], body: (seq: number) => string, seen: UsageTotals): Promise<OutageRun['warmup']> {
  const { samples } = await runPacedLoad({ targets, rate, durationS: OUTAGE.warmupS, body, timeoutMs: OUTAGE.requestTimeoutMs });
  const statuses: Record<string, number> = {};
  let ok = 0;
  for (const x of samples) {
    statuses[statusKey(x)] = (statuses[statusKey(x)] ?? 0) + 1;
    if (x.status >= 200 && x.status < 300) {
      ok++;
      seen.requests++;
      seen.costUsd += x.costUsd ?? 0;
    }
  }
  if (ok !== samples.length) warn(`outage warm-up: ${samples.length - ok} of ${samples.length} requests not 2xx (${JSON.stringify(statuses)})`);
  const lat = samples.map((x) => x.latencyMs);
  return { requests: samples.length, ok2xx: ok, statuses, p50Ms: round(percentile(lat, 50), 2), p99Ms: round(percentile(lat, 99), 2) };
}

async function runOne(o: OutageOptions, kind: StoreKind, upstreamUrl: string): Promise<OutageRun> {
  const store = kind === 'redis' ? await startRedisStore() : await startDynaliteStore(o.dirs.root, o.dirs.benchDir);
  // One after the other: on DynamoDB the first one creates the tables.
  const a = await startGateway(o, store, upstreamUrl, 'A');
  const b = await startGateway(o, store, upstreamUrl, 'B');
  // Redis holds limits, budgets and usage but not tenants (each instance keeps them in memory):
  // the same tenant id on both, one key each. On DynamoDB the tenant is shared: one key.
  const authA = await createTenant(a.url);
  const authB = kind === 'redis' ? await createTenant(b.url) : authA;
  const targets: LoadTarget[] = [
    { url: `${a.url}/v1/chat/completions`, auth: authA },
    { url: `${b.url}/v1/chat/completions`, auth: authB },
  ];

  const seen: UsageTotals = { costUsd: 0, requests: 0 };
  const warmup = await warmUp(o.rate, targets, chatBody(`${kind} warm-up`), seen);
  const loadBefore = os.loadavg();
  const cpuPids = [a.child.pid, b.child.pid, process.pid];
  const cpu0 = cpuSnapshot(cpuPids);
  const store0 = { atMs: performance.now(), cpuMs: cpuTimeMs(store.pid()) };
  let storeCoresBeforeKill = 0;
  const killStore = (): Promise<void> => {
    storeCoresBeforeKill = Math.round(((cpuTimeMs(store.pid()) - store0.cpuMs) / (performance.now() - store0.atMs)) * 100) / 100;
    return store.kill();
  };
  console.log(
    `outage ${kind}: ${o.rate} req/s for ${OUTAGE.durationS} s over 2 gateways; ` +
      `store SIGKILLed at ${OUTAGE.killAtMs / 1000} s, restarted at ${OUTAGE.restartAtMs / 1000} s (load avg ${loadBefore.map((x) => x.toFixed(2)).join(' ')})`,
  );
  const load = await runPacedLoad({
    targets,
    rate: o.rate,
    durationS: OUTAGE.durationS,
    body: chatBody(kind),
    timeoutMs: OUTAGE.requestTimeoutMs,
    events: [
      { name: 'kill', atMs: OUTAGE.killAtMs, run: killStore },
      { name: 'restart', atMs: OUTAGE.restartAtMs, run: () => store.restart() },
    ],
  });
  const loadAfter = os.loadavg();
  const cpu = cpuUse(cpu0, cpuSnapshot(cpuPids), os.cpus().length);
  const kill = load.events.find((e) => e.name === 'kill');
  const restart = load.events.find((e) => e.name === 'restart');
  if (!kill || !restart) throw new Error(`outage ${kind}: the kill or the restart did not run`);
  const times: OutageTimes = { killMs: kill.startMs, restartMs: restart.startMs, readyMs: restart.doneMs };
  const figures = analyzeOutage(load.samples, times, OUTAGE.durationS * 1000);
  seen.requests += figures.ok2xx;
  seen.costUsd += figures.costSeenUsd;

  const usage = await settleAndCheck(seen, { url: a.url, auth: authA }, { url: b.url, auth: authB });
  await Promise.all([a.child.stop(), b.child.stop()]);
  const logs = [a, b].map((g) => readInstanceLog(g.logFile, load.startEpochMs));
  await store.close();
  const sawStoreBackMs = logs.map((l) => {
    const back = l.availableAgainAtMs.find((t) => t >= times.readyMs);
    return back === undefined ? null : Math.round(back - times.readyMs);
  });
  const run: OutageRun = {
    store: kind,
    loadavg: { before: loadBefore, after: loadAfter },
    cpu,
    storeCoresBeforeKill,
    sawStoreBackMs,
    times,
    figures,
    warmup,
    usage,
    logs,
  };
  console.log(progressLine(run));
  return run;
}

function progressLine(r: OutageRun): string {
  const f = r.figures;
  return (
    `outage ${r.store}: ${f.ok2xxPct}% 2xx of ${f.requests}, p99 before ${f.before.p99Ms} ms, added p99 ${f.addedP99Ms} ms, ` +
    `recovery ${f.recoveryS ?? 'none'} s, usage ${r.usage.match ? 'matches' : 'DIFFERS'} (settled in ${r.usage.settleS.toFixed(1)} s)`
  );
}

async function sourceState(root: string): Promise<OutageResult['source']> {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  const head = await runCommand('git rev-parse', 'git', ['-C', root, 'rev-parse', '--short', 'HEAD'], env, 10_000);
  const status = await runCommand('git status', 'git', ['-C', root, 'status', '--porcelain', '--', 'functions', 'bin'], env, 10_000);
  return { commit: head.stdout[0]?.trim() ?? 'unknown', uncommittedFiles: status.stdout.map((l) => l.trim()).filter((l) => l !== '') };
}

export async function runOutage(o: OutageOptions): Promise<OutageResult> {
  const source = await sourceState(o.dirs.root);
  const upstream = await startUpstream(o.dirs);
  const runs: OutageRun[] = [];
  try {
    for (const kind of o.stores) runs.push(await runOne(o, kind, upstream.url));
  } finally {
    await upstream.child.stop();
  }
  return { config: { ...OUTAGE, rate: o.rate }, source, runs };
}
