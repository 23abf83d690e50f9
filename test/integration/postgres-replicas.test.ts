// Several gateway instances sharing one PostgreSQL database (DATABASE_URL), as replicas behind a
// load balancer: migrations applied once when they start together, the budget admitted exactly
// across four of them with each usage event counted once, everything kept across a restart, and
// the database killed mid-test (pg_ctl stop -m immediate) degrading as documented and recovering.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Client } from 'pg';
import type { OpenDatabase } from '../../functions/adapters/database';
import { openPostgresStores } from '../../functions/adapters/postgres';
import { findMigrationsDir, migrate, readMigrations } from '../../functions/adapters/postgres/migrate';
import { PgDatabase } from '../../functions/adapters/postgres/pool';
import type { Env } from '../../functions/config';
import { budgetPeriod } from '../../functions/core/budget';
import { DEFAULT_TENANT, DEFAULT_TENANT_KEY } from '../../functions/core/tenants';
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { startBareInstance, type BareInstance } from '../helpers/bare-instance';
import { eventually } from '../helpers/eventually';
import { usePostgres } from '../helpers/postgres';

const postgres = usePostgres();
const openDatabase: OpenDatabase = openPostgresStores;
let upstream: FakeUpstream;
const running: BareInstance[] = [];

beforeAll(async () => {
  upstream = await startOpenAIUpstream();
});
afterAll(async () => {
  for (const i of running) await i.close().catch(() => undefined);
  await upstream?.close();
});

/** The environment of a replica on `databaseUrl`. Exactness is tested here, not deadlines: slack for a loaded machine. */
const envFor = (databaseUrl: string, extra: Env = {}): Env => ({
  OPENAI_API_KEY: 'sk-test',
  OPENAI_BASE_URL: upstream.url,
  OLLAMA_BASE_URL: 'http://127.0.0.1:1',
  DATABASE_URL: databaseUrl,
  STORE_TIMEOUT: '5000',
  TENANT_CACHE_TTL: '1',
  ...extra,
});

async function replica(databaseUrl: string, now: () => number = Date.now, extra: Env = {}): Promise<BareInstance> {
  const inst = await startBareInstance(envFor(databaseUrl, extra), now, { openDatabase });
  running.push(inst);
  return inst;
}

async function close(...instances: BareInstance[]): Promise<void> {
  for (const i of instances) {
    await i.close();
    running.splice(running.indexOf(i), 1);
  }
}

const ask = (inst: BareInstance, content: string): Promise<Response> =>
  fetch(`${inst.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${DEFAULT_TENANT_KEY}` },
    // The fake answers 14 prompt and 37 completion tokens: max_tokens 50 keeps the estimate above the cost.
    body: JSON.stringify({ model: 'gpt-4o', max_tokens: 50, messages: [{ role: 'user', content }] }),
  });

interface UsageBody {
  request_count: number;
  total_cost_usd: number;
}

async function usageOf(inst: BareInstance): Promise<UsageBody> {
  const res = await fetch(`${inst.url}/v1/usage`, { headers: { authorization: `Bearer ${DEFAULT_TENANT_KEY}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as UsageBody;
}

async function sql<R>(url: string, text: string): Promise<R[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as R[];
  } finally {
    await client.end();
  }
}

test('two replicas starting at once apply the migrations once', async () => {
  const url = await postgres.server.freshDatabase('migrate');
  const pools = [PgDatabase.open(settings(url)), PgDatabase.open(settings(url))];
  const migrations = readMigrations(findMigrationsDir());
  const runs = await Promise.all(pools.map((db) => migrate(db, migrations)));
  for (const db of pools) await db.close();
  // One of them applied every file, the other waited on the lock and found nothing left.
  expect(runs.map((r) => r.applied.length).sort()).toEqual([0, migrations.length]);
  expect(runs.every((r) => r.version === migrations.length)).toBe(true);
  // Two whole gateways starting together on a fresh database both come up on the one schema.
  const fresh = await postgres.server.freshDatabase('start');
  const [a, b] = await Promise.all([replica(fresh), replica(fresh)]);
  expect(await sql<{ version: number }>(fresh, 'SELECT version FROM schema_migrations ORDER BY version')).toEqual(
    migrations.map((m) => ({ version: m.version })),
  );
  expect((await ask(a, 'hello')).status).toBe(200);
  expect((await ask(b, 'hello')).status).toBe(200);
  await close(a, b);
});

test('npm run migrate applies the migrations as a step of its own; with DATABASE_MIGRATE=false a replica refuses an old schema', async () => {
  const url = await postgres.server.freshDatabase('step');
  await expect(replica(url, Date.now, { DATABASE_MIGRATE: 'false' })).rejects.toThrow('run npm run migrate');
  const migrateStep = () => promisify(execFile)(process.execPath, ['--import', 'tsx', 'bin/migrate.ts'], { env: { ...process.env, DATABASE_URL: url } });
  const count = readMigrations(findMigrationsDir()).length;
  expect((await migrateStep()).stdout).toBe(`migrated: applied ${Array.from({ length: count }, (_, i) => i + 1).join(', ')}; schema version ${count}\n`);
  expect((await migrateStep()).stdout).toBe(`up to date: schema version ${count}\n`);
  const inst = await replica(url, Date.now, { DATABASE_MIGRATE: 'false' });
  expect((await ask(inst, 'after the step')).status).toBe(200);
  await close(inst);
}, 30_000);

test('four replicas admit exactly the budget between them and count each usage event once', async () => {
  const url = await postgres.server.freshDatabase('budget');
  const replicas = await Promise.all(Array.from({ length: 4 }, () => replica(url)));
  const [first] = replicas as [BareInstance];
  const record = await first.composed.stores.tenants.get(DEFAULT_TENANT.id);
  if (!record) throw new Error('the default tenant is seeded at start');
  const budget = 0.005;
  await first.composed.stores.tenants.update({ ...record, budget_usd: budget, version: record.version + 1 });
  // No replica has served a request yet: each reads the tenant, with its budget, on its first.
  const responses = await Promise.all(Array.from({ length: 120 }, (_, i) => ask(replicas[i % 4] as BareInstance, `burst ${i}`)));
  const bodies = await Promise.all(responses.map(async (r) => ({ status: r.status, body: (await r.json()) as { x_gateway?: { cost_usd: number } } })));
  const admitted = bodies.filter((b) => b.status === 200);
  const refused = bodies.filter((b) => b.status === 429);
  expect(admitted.length + refused.length).toBe(120);
  expect(refused.length).toBeGreaterThan(0);
  const spent = admitted.reduce((sum, b) => sum + (b.body.x_gateway?.cost_usd ?? 0), 0);
  // Never past the budget, whichever replica admitted what.
  expect(spent).toBeLessThanOrEqual(budget + 1e-12);
  // Each replica hands its usage and settlements over; then the database holds exactly what the clients were told.
  for (const inst of replicas) await inst.composed.gateway.flush();
  const usage = await usageOf(first);
  expect(usage.request_count).toBe(admitted.length);
  expect(usage.total_cost_usd).toBeCloseTo(spent, 9);
  const [account] = await sql<{ spent: string }>(
    url,
    `SELECT spent::text FROM budget_accounts WHERE tenant_id = 'default' AND period = '${budgetPeriod(Date.now())}'`,
  );
  expect(Number(account?.spent)).toBeCloseTo(spent, 9);
  // One request at a time, the rest of the budget is used until less than one estimate is left:
  // nothing stays stranded in a replica's lease.
  let total = spent;
  for (let i = 0; ; i++) {
    const res = await ask(replicas[i % 4] as BareInstance, `drain ${i}`);
    const body = (await res.json()) as { x_gateway?: { cost_usd: number }; error?: { message: string } };
    if (res.status !== 200) {
      expect(res.status).toBe(429);
      const estimate = Number(/estimate of ([\d.]+) USD/.exec(body.error?.message ?? '')?.[1]);
      expect(budget - total).toBeLessThan(estimate);
      break;
    }
    total += body.x_gateway?.cost_usd ?? 0;
    expect(i).toBeLessThan(20);
  }
  expect(total).toBeLessThanOrEqual(budget + 1e-12);
  await close(...replicas);
});

test('a restart keeps tenants, admin users, audit, usage, budgets and stored responses', async () => {
  const url = await postgres.server.freshDatabase('restart');
  const a = await replica(url);
  expect((await ask(a, 'before the restart')).status).toBe(200);
  const stored = await fetch(`${a.url}/v1/responses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${DEFAULT_TENANT_KEY}` },
    body: JSON.stringify({ model: 'gpt-4o-mini', input: 'remember me' }),
  });
  expect(stored.status).toBe(200);
  const { id } = (await stored.json()) as { id: string };
  await a.composed.stores.users.create({ username: 'ops', role: 'viewer', password_hash: 'scrypt$x', created_at: 'x', updated_at: 'x' });
  await a.composed.stores.audit.append({ id: 'e1', at: new Date().toISOString(), actor: 'ops', action: 'tenant.update', tenant_id: 'default' });
  await a.composed.gateway.flush();
  const before = await usageOf(a);
  await close(a);

  const b = await replica(url);
  expect(await usageOf(b)).toEqual(before);
  expect(before.request_count).toBeGreaterThanOrEqual(2);
  expect(await b.composed.stores.users.get('ops')).toMatchObject({ role: 'viewer' });
  expect((await b.composed.stores.audit.list({})).map((e) => e.id)).toEqual(['e1']);
  const again = await fetch(`${b.url}/v1/responses/${id}`, { headers: { authorization: `Bearer ${DEFAULT_TENANT_KEY}` } });
  expect(again.status).toBe(200);
  await close(b);
});

test('the database killed mid-test: known keys keep working, usage waits and is applied once it is back', async () => {
  const url = await postgres.server.freshDatabase('outage');
  const inst = await replica(url, Date.now, { STORE_TIMEOUT: '300' });
  expect((await ask(inst, 'warm')).status).toBe(200);
  await inst.composed.gateway.flush();
  await postgres.server.kill();
  try {
    // A key this replica read keeps working from its stale copy; budgets admit on what it knew;
    // the request's usage is buffered in process.
    const during = await Promise.all(Array.from({ length: 5 }, (_, i) => ask(inst, `during ${i}`)));
    expect(during.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const usage = await fetch(`${inst.url}/v1/usage`, { headers: { authorization: `Bearer ${DEFAULT_TENANT_KEY}` } });
    expect(usage.status).toBe(503);
    expect(((await usage.json()) as { error: { code: string } }).error.code).toBe('store_unavailable');
    const health = (await (await fetch(`${inst.url}/health`)).json()) as { stores?: Record<string, string> };
    expect(JSON.stringify(health)).toContain('postgres');
  } finally {
    await postgres.server.restart();
  }
  // Back: the buffered usage is applied, each event once.
  await eventually(
    'usage applied after the database returned',
    async () => {
      const res = await fetch(`${inst.url}/v1/usage`, { headers: { authorization: `Bearer ${DEFAULT_TENANT_KEY}` } });
      return res.status === 200 && ((await res.json()) as UsageBody).request_count === 6;
    },
    10_000,
    250,
  );
  await close(inst);
});

function settings(url: string) {
  return { url, poolMax: 4, connectTimeoutMs: 5000, statementTimeoutMs: 10_000, idleTimeoutMs: 10_000, migrateAtStart: true };
}
