// PostgreSQL failing under a gateway, as README "When a store fails" documents for every shared
// store: a slow database is bounded by STORE_TIMEOUT (the wait for a connection and the query
// together) and then treated as down, calls failing at once except one probe per interval;
// connections left silent by a failover are dropped, so a probe on a new one finds the database
// back; with STORE_FAILURE_MODE=closed a budgeted tenant gets 503 store_unavailable while it is down;
// a gateway starting while the database still starts waits for it.
import type { OpenDatabase } from '../../functions/adapters/database';
import { openPostgresStores } from '../../functions/adapters/postgres';
import type { Env } from '../../functions/config';
import type { Logger } from '../../functions/core/logger';
import { DEFAULT_TENANT_KEY } from '../../functions/core/tenants';
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { startBareInstance, type BareInstance } from '../helpers/bare-instance';
import { eventually } from '../helpers/eventually';
import { usePostgres } from '../helpers/postgres';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';

const postgres = usePostgres();
const openDatabase: OpenDatabase = openPostgresStores;
const STORE_TIMEOUT_MS = 150;
const PROBE_MS = 500;
/** Slack for a loaded 2-core machine on top of a deadline. */
const SLACK_MS = 250;

let upstream: FakeUpstream;
const cleanups: Array<() => Promise<void>> = [];
beforeAll(async () => {
  upstream = await startOpenAIUpstream();
});
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await upstream?.close();
});

/** A clock that moves only when told: probe intervals pass when the test says so. */
function fakeClock(): { now: () => number; advance(ms: number): void } {
  let t = Date.now();
  return { now: () => t, advance: (ms) => void (t += ms) };
}

async function instance(databaseUrl: string, now: () => number, extra: Env = {}): Promise<BareInstance> {
  const env: Env = { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url, OLLAMA_BASE_URL: 'http://127.0.0.1:1', DATABASE_URL: databaseUrl, ...extra };
  const inst = await startBareInstance(env, now, { openDatabase });
  cleanups.push(() => inst.close());
  return inst;
}

const auth = { authorization: `Bearer ${DEFAULT_TENANT_KEY}` };

async function timed(call: () => Promise<Response>): Promise<{ status: number; ms: number; body: string; retryAfter: string | null }> {
  const started = Date.now();
  const res = await call();
  const body = await res.text();
  return { status: res.status, ms: Date.now() - started, body, retryAfter: res.headers.get('retry-after') };
}

const usage = (inst: BareInstance) => timed(() => fetch(`${inst.url}/v1/usage`, { headers: auth }));
const chat = (inst: BareInstance, content: string) =>
  timed(() =>
    fetch(`${inst.url}/v1/chat/completions`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 20, messages: [{ role: 'user', content }] }),
    }),
  );

test('a slow database is bounded by STORE_TIMEOUT, then not called until a probe; silent connections are dropped and it is found back', async () => {
  const url = await postgres.server.freshDatabase('slow');
  const proxy: TcpProxy = await startTcpProxy({ port: postgres.server.port });
  cleanups.push(() => proxy.close());
  const clock = fakeClock();
  const inst = await instance(url.replace(`:${postgres.server.port}/`, `:${proxy.port}/`), clock.now);
  expect((await chat(inst, 'warm')).status).toBe(200);
  await inst.composed.gateway.flush();
  expect((await usage(inst)).status).toBe(200);

  proxy.delay(1_000);
  // Each call that finds it out waits at most the deadline, never the database's full second.
  for (let i = 0; i < 3; i++) {
    const slow = await usage(inst);
    expect(slow.status).toBe(503);
    expect(slow.ms).toBeLessThan(STORE_TIMEOUT_MS + SLACK_MS);
  }
  expect(inst.composed.guards.statuses()).toMatchObject({ postgres: 'down' });
  // Marked down: calls fail at once and nothing is sent to the database.
  proxy.resetCounts();
  const fast = await usage(inst);
  expect(fast.status).toBe(503);
  expect(JSON.parse(fast.body)).toMatchObject({ error: { code: 'store_unavailable' } });
  expect(fast.ms).toBeLessThan(STORE_TIMEOUT_MS);
  expect(proxy.counts.chunks).toBe(0);
  // Chat goes on (open mode): the tenant from the in-process cache, the budget on what this instance knew.
  expect((await chat(inst, 'during')).status).toBe(200);

  // A failover: the open connections stay silent for good; new ones reach the database.
  await proxy.restore({ abandonHeld: true });
  await eventually('a probe on a new connection finds the database back', async () => {
    clock.advance(PROBE_MS);
    return (await usage(inst)).status === 200;
  });
  await inst.composed.gateway.flush();
  const after = JSON.parse((await usage(inst)).body) as { request_count: number };
  expect(after.request_count).toBe(2);
});

test('closed mode: a budgeted tenant gets 503 store_unavailable while the database is down, and is served once it is back', async () => {
  const url = await postgres.server.freshDatabase('closed');
  const clock = fakeClock();
  const inst = await instance(url, clock.now, { STORE_FAILURE_MODE: 'closed' });
  // A budget so small that this instance's lease of it covers no whole request: each one needs the ledger.
  const record = await inst.composed.stores.tenants.get('default');
  if (!record) throw new Error('the default tenant is seeded at start');
  await inst.composed.stores.tenants.update({ ...record, budget_usd: 0.001, version: record.version + 1 });
  expect((await chat(inst, 'warm')).status).toBe(200);
  await postgres.server.kill();
  let refused: Awaited<ReturnType<typeof chat>>;
  try {
    refused = await chat(inst, 'during');
  } finally {
    await postgres.server.restart();
  }
  expect(refused.status).toBe(503);
  expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'store_unavailable' } });
  expect(refused.retryAfter).toBe('1');
  await eventually('served again once the database is back', async () => {
    clock.advance(PROBE_MS);
    return (await chat(inst, 'after')).status === 200;
  });
});

test('a gateway starting before its database waits for it, then migrates and serves', async () => {
  const url = await postgres.server.freshDatabase('late');
  const warnings: string[] = [];
  const logger: Logger = { debug() {}, info() {}, error() {}, warn: (message) => void warnings.push(message) };
  await postgres.server.kill();
  let opening: ReturnType<typeof openPostgresStores> | undefined;
  try {
    const settings = { url, poolMax: 4, connectTimeoutMs: 5000, statementTimeoutMs: 10_000, idleTimeoutMs: 10_000, migrateAtStart: true };
    opening = openPostgresStores(settings, { now: Date.now, logger, timeoutMs: 1000 });
    await eventually('the start waits for the database', () => warnings.includes('database not reachable yet; waiting'));
  } finally {
    await postgres.server.restart();
  }
  const stores = await opening;
  try {
    expect(await stores.claims.claim('t', '2030-01', 50)).toBe(true);
  } finally {
    await stores.close();
  }
});
