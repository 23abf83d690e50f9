// The "storage" section: the gateway on its in-memory default next to the same build on DynamoDB
// (dynalite in its own process, counting requests) and on PostgreSQL (DATABASE_URL: a private
// cluster from Debian's packages), for a tenant without limits and one with a request limit and a
// budget. Reports throughput, CPU per request, added latency at a paced rate, and store round
// trips per gateway request: DynamoDB requests by operation and table; PostgreSQL statements
// (from pg_stat_statements). Both on the request path (tenants, state) and for usage
// aggregation (in this local mode done in the gateway process; in AWS by the aggregator function).
import path from 'node:path';
import { Client } from 'pg';
import { startPostgres, type RunningPostgres } from '../helpers/postgres';
import { freePort, startChild, type Child } from './children';
import { request } from './http-util';
import { cpuTimeMs } from './procstat';
import { spawnGatewayWithEnv, startUpstream, waitHealthy, type BenchPaths } from './processes';
import { checkWrkErrors } from './warnings';
import { runWrk } from './wrk';

export interface StorageOptions {
  dirs: BenchPaths;
  gatewayEntry: string;
  gatewayAuth: string;
  runs: number;
  durationS: number;
}

interface PathResult {
  rps: number;
  cpuMsPerRequest: number;
  p50Ms: number;
  p99Ms: number;
  /** DynamoDB requests per gateway request, by "<operation> <table>" (DynamoDB paths only). */
  dynamoPerRequest?: Record<string, number>;
  /** PostgreSQL statements per gateway request (PostgreSQL paths only). */
  postgresPerRequest?: number;
}

export interface StorageResult {
  config: { runs: number; durationS: number; rate: number; connections: number };
  /** Medians over the runs, per path. */
  summary: Record<string, PathResult>;
}

const CHAT_BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hi' }] });
const CONNECTIONS = 64;
const PACED_CONNECTIONS = 10;
// Paced low enough that dynalite (~2 ms per write, one core) is not the bottleneck.
const RATE = 100;
const WRK_THREADS = 2;
/** Limits high enough never to refuse during the bench, so every request takes the limited path. */
const LIMITED = { rate_limit_rpm: 100_000_000, budget_usd: 1_000_000 };

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function startDynalite(dirs: BenchPaths): Promise<{ child: Child; endpoint: string }> {
  const child = startChild('dynalite', process.execPath, ['--import', 'tsx', path.join(dirs.benchDir, 'dynalite-process.ts')], {
    cwd: dirs.root,
    stdin: true,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });
  const line = await child.waitForLine((l) => l.startsWith('listening '), 30_000);
  return { child, endpoint: `http://127.0.0.1:${line.split(' ')[1]}` };
}

async function dynamoCounts(child: Child): Promise<Record<string, number>> {
  const reply = child.waitForLine((l) => l.startsWith('counts '), 5000);
  child.writeLine('counts');
  return JSON.parse((await reply).slice('counts '.length)) as Record<string, number>;
}

/** A tenant with a request limit and a budget, made through the admin API; returns its key. */
async function limitedTenant(baseUrl: string): Promise<string> {
  const r = await request(`${baseUrl}/admin/tenants`, {
    method: 'POST',
    body: JSON.stringify({ name: 'bench-limited', ...LIMITED }),
    headers: { 'content-type': 'application/json' },
    timeoutMs: 10_000,
  });
  if (r.status !== 201 && r.status !== 200) throw new Error(`creating the bench tenant failed: ${r.status} ${r.body}`);
  return `Bearer ${(JSON.parse(r.body) as { api_key: string }).api_key}`;
}

/** Statements the gateway has run in `database` so far (pg_stat_statements counts each as it ends). */
async function postgresStatements(pg: RunningPostgres, database: string): Promise<number> {
  const client = new Client({ connectionString: pg.url(database) });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string | null }>(
      "SELECT sum(calls)::text AS n FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query NOT LIKE '%pg_stat_statements%'",
    );
    return Number(rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

export async function runStorage(o: StorageOptions): Promise<StorageResult> {
  const upstream = await startUpstream(o.dirs);
  const dynalite = await startDynalite(o.dirs);
  const postgres = await startPostgres(['shared_preload_libraries=pg_stat_statements']);
  const databaseUrl = await postgres.freshDatabase('bench');
  const database = new URL(databaseUrl).pathname.slice(1);
  await (async () => {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    await client.query('CREATE EXTENSION pg_stat_statements');
    await client.end();
  })();
  const providerEnv = { OPENAI_BASE_URL: upstream.url, OPENAI_API_KEY: 'sk-test' };
  const gateways: Record<'memory' | 'dynamodb' | 'postgres', { child: Child; url: string }> = {} as never;
  for (const kind of ['memory', 'dynamodb', 'postgres'] as const) {
    const port = await freePort();
    const env =
      kind === 'memory'
        ? providerEnv
        : kind === 'dynamodb'
          ? { ...providerEnv, DYNAMODB_ENDPOINT: dynalite.endpoint, AWS_REGION: 'us-east-1' }
          : { ...providerEnv, DATABASE_URL: databaseUrl };
    const child = spawnGatewayWithEnv(o.dirs, o.gatewayEntry, port, env, `gateway-${kind}`);
    const url = `http://127.0.0.1:${port}`;
    await waitHealthy(child, url, 30_000);
    gateways[kind] = { child, url };
  }
  const paths = {
    'memory, no limits': { gw: gateways.memory, auth: o.gatewayAuth },
    'memory, rpm + budget': { gw: gateways.memory, auth: await limitedTenant(gateways.memory.url) },
    'dynamodb, no limits': { gw: gateways.dynamodb, auth: o.gatewayAuth },
    'dynamodb, rpm + budget': { gw: gateways.dynamodb, auth: await limitedTenant(gateways.dynamodb.url) },
    'postgres, no limits': { gw: gateways.postgres, auth: o.gatewayAuth },
    'postgres, rpm + budget': { gw: gateways.postgres, auth: await limitedTenant(gateways.postgres.url) },
  };
  const raw: Record<string, PathResult[]> = {};
  for (const [name, p] of Object.entries(paths)) {
    const chatUrl = `${p.gw.url}/v1/chat/completions`;
    const common = { url: chatUrl, auth: p.auth, body: CHAT_BODY, threads: WRK_THREADS, luaDir: o.dirs.benchDir };
    await runWrk({ ...common, connections: CONNECTIONS, durationS: 1 }); // warm-up
    await dynamoCounts(dynalite.child); // start counting from here
    let statements = await postgresStatements(postgres, database);
    for (let r = 0; r < o.runs; r++) {
      const cpu0 = cpuTimeMs(p.gw.child.pid);
      const wrk = await runWrk({ ...common, connections: CONNECTIONS, durationS: o.durationS });
      const cpu1 = cpuTimeMs(p.gw.child.pid);
      checkWrkErrors(`${name} throughput`, wrk);
      const paced = await runWrk({ ...common, connections: PACED_CONNECTIONS, durationS: o.durationS, rate: RATE });
      checkWrkErrors(`${name} @${RATE} req/s`, paced);
      // Let usage aggregation catch up before counting what the requests cost in DynamoDB.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const counts = await dynamoCounts(dynalite.child);
      const statementsNow = await postgresStatements(postgres, database);
      const n = Math.max(1, wrk.requests + paced.requests);
      const result: PathResult = {
        rps: wrk.rps,
        cpuMsPerRequest: (cpu1 - cpu0) / Math.max(1, wrk.requests),
        p50Ms: paced.latencyMs.p50,
        p99Ms: paced.latencyMs.p99,
      };
      if (name.startsWith('dynamodb'))
        result.dynamoPerRequest = Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, Math.round((v / n) * 100) / 100]));
      if (name.startsWith('postgres')) result.postgresPerRequest = Math.round(((statementsNow - statements) / n) * 100) / 100;
      statements = statementsNow;
      (raw[name] ??= []).push(result);
      console.log(
        `storage ${name} ${r + 1}/${o.runs}: ${wrk.rps.toFixed(0)} req/s, ${result.cpuMsPerRequest.toFixed(3)} ms CPU/req, ` +
          `@${RATE} req/s p50 ${paced.latencyMs.p50.toFixed(2)} p99 ${paced.latencyMs.p99.toFixed(2)} ms` +
          `${result.dynamoPerRequest ? `, DynamoDB/req ${JSON.stringify(result.dynamoPerRequest)}` : ''}` +
          `${result.postgresPerRequest !== undefined ? `, PostgreSQL statements/req ${result.postgresPerRequest}` : ''}`,
      );
    }
  }
  for (const c of [gateways.memory.child, gateways.dynamodb.child, gateways.postgres.child, dynalite.child, upstream.child]) await c.stop();
  await postgres.stop();
  const summary: Record<string, PathResult> = {};
  for (const [name, runs] of Object.entries(raw)) {
    summary[name] = {
      rps: median(runs.map((x) => x.rps)),
      cpuMsPerRequest: median(runs.map((x) => x.cpuMsPerRequest)),
      p50Ms: median(runs.map((x) => x.p50Ms)),
      p99Ms: median(runs.map((x) => x.p99Ms)),
      ...(runs[0]?.dynamoPerRequest ? { dynamoPerRequest: runs[runs.length - 1]?.dynamoPerRequest } : {}),
      ...(runs[0]?.postgresPerRequest !== undefined ? { postgresPerRequest: median(runs.map((x) => x.postgresPerRequest ?? 0)) } : {}),
    };
  }
  return { config: { runs: o.runs, durationS: o.durationS, rate: RATE, connections: CONNECTIONS }, summary };
}

export function formatStorageTable(s: StorageResult): string {
  const rows = Object.entries(s.summary).map(
    ([name, r]) =>
      `| ${name} | ${r.rps.toFixed(0)} | ${r.cpuMsPerRequest.toFixed(3)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${
        r.dynamoPerRequest
          ? Object.entries(r.dynamoPerRequest)
              .map(([k, v]) => `${k} ${v}`)
              .join(', ')
          : r.postgresPerRequest !== undefined
            ? `${r.postgresPerRequest} statements`
            : '–'
      } |`,
  );
  return [
    `storage (medians of ${s.config.runs}; throughput at ${s.config.connections} connections, latency at ${s.config.rate} req/s)`,
    '| path | req/s | CPU ms/req | p50 ms | p99 ms | store round trips per request |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
