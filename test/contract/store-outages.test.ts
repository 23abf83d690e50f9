// "The gateway's own stores never take it down" (DESIGN §3), per shared backend: a real
// redis-server and a real dynalite, each in its own process, killed with SIGKILL in the middle of
// a test and restarted on the same port with its data. Gateways are composed exactly as
// `npm start` composes them (loadConfig → composeGateway → the local HTTP server) and called with
// the official `openai` client, against the fake OpenAI upstream. For each backend:
//   rate limits: admitted and counted in the instance (open) / 503 store_unavailable (closed);
//   cache: a miss, the write skipped, nothing thrown; breaker: the instance's own decides;
//   tenants (DynamoDB): last known good, never-seen key 503, disabled stays 403;
//   /v1/usage: 503 store_unavailable; /health: 200 "degraded" naming the store, ?ready=1 503;
//   calls while the store is marked down do not reach it; a slow store is bounded by STORE_TIMEOUT
//   and treated as down; after the restart a probe marks it ok and the shared store is used again.
// Gateways run on a fake clock (composeGateway's `now`): probe intervals, tenant TTLs and breaker
// timings advance when the test says so, never by sleeping. Real time is waited for only where
// the outage is real (a reconnect), through `eventually` with a deadline.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { composeGateway, type ComposedGateway } from '../../functions/adapters/compose';
import { MemoryTenantRepository } from '../../functions/adapters/memory/tenant-repository';
import { budgetPeriod } from '../../functions/core/budget';
import { loadConfig, type Env } from '../../functions/config';
import { silentLogger } from '../../functions/core/logger';
import type { Tenant } from '../../functions/core/ports';
import { hashApiKey } from '../../functions/core/tenants';
import { startServer, type RunningServer } from '../../functions/local/server';
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { eventually } from '../helpers/eventually';
import { startRestartableDynalite, startRestartableRedis, type StoreProcess } from '../helpers/store-processes';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';

/** STORE_TIMEOUT in these tests (the default). */
const STORE_TIMEOUT_MS = 150;
/** The guard's probe interval (its default): advancing the fake clock by it lets one probe through. */
const PROBE_MS = 500;
/** Slack for a loaded 2-core machine on top of a deadline. */
const SLACK_MS = 250;

/** A clock that moves only when told; starts 1 s into a minute, so rate-limit windows do not roll over mid-test. */
function fakeClock(): { now: () => number; advance(ms: number): void } {
  let t = Math.floor(Date.now() / 60_000) * 60_000 + 1_000;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

interface Instance {
  composed: ComposedGateway;
  server: RunningServer;
  url: string;
  client(key: string): OpenAI;
  close(): Promise<void>;
}

async function startInstance(env: Env, now: () => number, routing?: Record<string, unknown>): Promise<Instance> {
  const files: Record<string, string> = routing ? { 'routing.json': JSON.stringify(routing) } : {};
  const config = loadConfig(
    { ADDR: '127.0.0.1:0', ...(routing ? { GATEWAY_CONFIG: 'routing.json' } : {}), ...env },
    (p) => {
      const text = files[p];
      if (text === undefined) throw new Error(`no file ${p}`);
      return text;
    },
    'test',
  );
  const composed = await composeGateway(config, silentLogger, { now });
  const server = await startServer({
    host: config.host,
    port: config.port,
    maxBodyBytes: config.maxBodyBytes,
    logger: silentLogger,
    handle: (r) => composed.gateway.handle(r),
  });
  return {
    composed,
    server,
    url: server.url,
    client: (key) => new OpenAI({ apiKey: key, baseURL: `${server.url}/v1`, maxRetries: 0 }),
    close: async () => {
      await server.shutdown(500);
      // Usage events buffered during the outage go in now (the store is back by then): their
      // retry loop would otherwise outlive the test.
      await composed.gateway.flush();
      await composed.state.close();
    },
  };
}

interface Outcome {
  status: number;
  code?: string | null;
  cacheHit?: boolean;
  /** What the gateway said the request cost (x_gateway.cost_usd). */
  cost?: number;
  retryAfter?: string | null;
  ms: number;
}

/** One chat completion through the official client; an error answer is an outcome too. */
async function ask(client: OpenAI, content: string, opts: { temperature?: number } = {}): Promise<Outcome> {
  const start = Date.now();
  try {
    const { data, response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content }], ...opts }).withResponse();
    const meta = (data as unknown as { x_gateway: { cache_hit: boolean; cost_usd: number } }).x_gateway;
    return { status: response.status, cacheHit: meta.cache_hit, cost: meta.cost_usd, ms: Date.now() - start };
  } catch (err) {
    if (!(err instanceof OpenAI.APIError) || err.status === undefined) throw err;
    return { status: err.status, code: err.code ?? null, retryAfter: err.headers?.get('retry-after') ?? null, ms: Date.now() - start };
  }
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown>; ms: number }> {
  const start = Date.now();
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, ms: Date.now() - start };
}

function tenant(id: string, limits: Partial<Tenant> = {}): Tenant {
  // No budget: budget reservations are another store path with outcomes of their own.
  return { id, name: id, enabled: true, rate_limit_rpm: 0, rate_limit_tpm: 0, budget_usd: 0, allow_overage: false, allowed_models: [], ...limits };
}

/** What differs between the two backends: how a gateway is pointed at the store, and where tenants live. */
interface Backend {
  name: 'redis' | 'dynamodb';
  start(): Promise<StoreProcess & { address: string }>;
  /** `space`: unique per test, so no test sees what another left in the store. */
  env(address: string, space: string): Env;
  /** Empties what a previous test left in the shared store (persisted breaker state, windows, cache). */
  reset(store: StoreProcess & { address: string }): Promise<void>;
  /** Makes the tenant known to every instance (memory: each instance's own; DynamoDB: the shared table). */
  addTenant(instances: Instance[], key: string, t: Tenant): Promise<void>;
}

const redisBackend: Backend = {
  name: 'redis',
  async start() {
    // Persisted (fsync per write): what the gateway stored before the kill is there after it.
    const p = await startRestartableRedis({ persist: true });
    return Object.assign(p, { address: p.url });
  },
  // Tenants stay in memory; limits, cache, breaker state (USE_DISTRIBUTED_CB) and usage in Redis.
  env: (address) => ({ REDIS_URL: address, USE_DISTRIBUTED_CB: 'true' }),
  async reset(store) {
    // The gateway's keys have a fixed prefix, and breaker state is per provider: start empty.
    const redis = new Redis(store.address, { maxRetriesPerRequest: 0 });
    try {
      await redis.flushall();
    } finally {
      redis.disconnect();
    }
  },
  async addTenant(instances, key, t) {
    for (const i of instances) {
      const repo = i.composed.stores.tenants;
      if (!(repo instanceof MemoryTenantRepository)) throw new Error('Redis instances keep tenants in memory');
      repo.put(key, t);
    }
  },
};

const dynamoBackend: Backend = {
  name: 'dynamodb',
  async start() {
    const p = await startRestartableDynalite({ persist: true });
    return Object.assign(p, { address: p.endpoint });
  },
  // Tenants, limits, cache, breaker state and usage all in DynamoDB.
  // Tables of this test's own (the gateway creates them on a local endpoint).
  env: (address, space) => ({
    DYNAMODB_ENDPOINT: address,
    TENANTS_TABLE: `${space}-tenants`,
    STATE_TABLE: `${space}-state`,
    USAGE_TABLE: `${space}-usage`,
    TENANT_CACHE_TTL: '1',
  }),
  reset: async () => undefined,
  async addTenant(instances, key, t) {
    const at = new Date().toISOString();
    // Through the repository the admin API writes with (one shared table).
    await instances[0]?.composed.stores.tenants.create({
      ...t,
      created_at: at,
      updated_at: at,
      version: 1,
      keys: [{ hash: hashApiKey(key), prefix: key.slice(0, 8), created_at: at }],
    });
  },
};

describe.each([redisBackend, dynamoBackend])('$name outage', (backend) => {
  let upstream: FakeUpstream;
  let store: StoreProcess & { address: string };
  let instances: Instance[] = [];
  let proxies: TcpProxy[] = [];

  beforeAll(async () => {
    upstream = await startOpenAIUpstream();
    store = await backend.start();
  });
  afterAll(async () => {
    await store?.stop();
    await upstream?.close();
  });
  let space: string;
  beforeEach(async () => {
    // Each test starts with the store up and empty, whatever the previous one left.
    if (!store.running) await store.restart();
    await backend.reset(store);
    space = `outage-${randomUUID().slice(0, 8)}`;
    upstream.setBehaviour(null);
  });
  afterEach(async () => {
    // The store back first, so what the instances still hold can be written before they close.
    if (!store.running) await store.restart();
    await Promise.all(proxies.map((p) => p.restore()));
    await Promise.all(instances.map((i) => i.close()));
    await Promise.all(proxies.map((p) => p.close()));
    instances = [];
    proxies = [];
  });

  const baseEnv = (extra: Env = {}, address = store.address): Env => ({
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: upstream.url,
    OLLAMA_BASE_URL: 'http://127.0.0.1:1',
    DEFAULT_TENANT_ENABLED: 'false',
    STORE_TIMEOUT: String(STORE_TIMEOUT_MS),
    ...backend.env(address, space),
    ...extra,
  });
  const start = async (now: () => number, extra: Env = {}, routing?: Record<string, unknown>, address?: string): Promise<Instance> => {
    const i = await startInstance(baseEnv(extra, address), now, routing);
    instances.push(i);
    return i;
  };
  const guardOf = (i: Instance) => i.composed.guards.for(backend.name);
  const storeErrors = (i: Instance): number =>
    i.composed.metrics
      .render()
      .split('\n')
      .filter((l) => l.startsWith(`aigateway_store_errors_total{store="${backend.name}"`))
      .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);

  /**
   * The request path's calls among what reached the store through the proxy: rate-limit windows,
   * cache entries, breaker state, tenant lookups. Usage totals are written by the usage pipeline
   * off the request path (buffered and retried, nobody waits on them), so they are not counted.
   */
  const requestPathCalls = (proxy: TcpProxy): number =>
    (backend.name === 'redis'
      ? proxy.counts.sent.match(/gw:(rl:|cache:|breakers)/g)
      : proxy.counts.sent.match(new RegExp(`"TableName":"${space}-(state|tenants)"`, 'g'))
    )?.length ?? 0;

  /**
   * Drives requests until the instance's guard has marked the store down (the failure threshold),
   * each bounded by the store's deadline. Returns how many it took.
   */
  async function driveDown(i: Instance, key: string): Promise<number> {
    let n = 0;
    while (guardOf(i).status !== 'down') {
      if (++n > 10) throw new Error('the store was never marked down');
      const o = await ask(i.client(key), `drive-down ${randomUUID()}`, { temperature: 0 });
      expect(o.status).toBe(200);
      expect(o.ms).toBeLessThan(2 * STORE_TIMEOUT_MS + SLACK_MS);
    }
    return n;
  }

  /**
   * After a restart: requests (each after one probe interval of the fake clock, so each may be a
   * probe) until the guard finds the store back; real time bounded, as a reconnect is real.
   */
  async function recover(i: Instance, clock: { advance(ms: number): void }, key: string): Promise<number> {
    const { ms } = await eventually(
      `${backend.name} marked ok again`,
      async () => {
        clock.advance(PROBE_MS);
        const o = await ask(i.client(key), `probe ${randomUUID()}`, { temperature: 0 });
        expect(o.status).toBe(200);
        return guardOf(i).status === 'ok';
      },
      10_000,
      50,
    );
    return ms;
  }

  test('rate limits: open mode admits and counts in the instance while the store is down; the shared window is used again after the restart', async () => {
    const clock = fakeClock();
    const a = await start(clock.now);
    const b = await start(clock.now);
    const limited = `gw-rl-${randomUUID()}`;
    const free = `gw-free-${randomUUID()}`;
    await backend.addTenant([a, b], limited, tenant(`rl-${randomUUID()}`, { rate_limit_rpm: 3 }));
    await backend.addTenant([a, b], free, tenant(`free-${randomUUID()}`));

    expect((await ask(a.client(limited), 'one')).status).toBe(200); // 1 of 3 in the shared window
    await store.kill();
    // The instance's own count starts at 0 and enforces the whole limit: 3 admitted, then 429.
    const during = [];
    for (let n = 0; n < 4; n++) during.push(await ask(a.client(limited), `during ${n}`));
    expect(during.map((o) => o.status)).toEqual([200, 200, 200, 429]);
    expect(during[3]?.code).toBe('rate_limit_exceeded');
    expect(guardOf(a).status).toBe('down');

    await store.restart();
    await recover(a, clock, free);
    // Shared again: the window holds the 1 request from before the kill (persisted), so 2 more
    // are admitted across both instances; the instance's own count (3) would have refused at once.
    expect((await ask(a.client(limited), 'after 1')).status).toBe(200);
    expect((await ask(b.client(limited), 'after 2')).status).toBe(200);
    const refused = await ask(b.client(limited), 'after 3');
    expect(refused).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
  });

  const BUDGETS_DURING_OUTAGE =
    'budgets: open mode admits against the spend it last knew and writes every settlement once the store is back; ' +
    'closed mode refuses budgeted tenants with 503';
  test(BUDGETS_DURING_OUTAGE, async () => {
    const clock = fakeClock();
    const open = await start(clock.now);
    const closed = await start(clock.now, { STORE_FAILURE_MODE: 'closed' });
    // Tenant "leased" asks before the outage: the open instance then holds a lease (a slice of its
    // budget already reserved in the shared ledger) and admits against it without the store.
    // Tenant "fresh" asks only once the store is down: no lease, so it is admitted against the
    // spend the instance last knew; on the closed instance it is refused.
    const leased = { key: `gw-budget-${randomUUID()}`, id: `leased-${randomUUID()}`, answered: [] as Outcome[] };
    const fresh = { key: `gw-budget-${randomUUID()}`, id: `fresh-${randomUUID()}`, answered: [] as Outcome[] };
    const free = `gw-free-${randomUUID()}`;
    for (const t of [leased, fresh]) await backend.addTenant([open, closed], t.key, tenant(t.id, { budget_usd: 100 }));
    await backend.addTenant([open, closed], free, tenant(`free-${randomUUID()}`));
    leased.answered.push(await ask(open.client(leased.key), 'before'));
    // Both instances know tenant "fresh" (a models list authenticates without reserving budget),
    // so what it meets during the outage is the budget's outcome, not the tenant lookup's.
    for (const i of [open, closed]) await i.client(fresh.key).models.list();

    await store.kill();
    for (let n = 0; n < 3; n++) {
      leased.answered.push(await ask(open.client(leased.key), `during ${n}`));
      fresh.answered.push(await ask(open.client(fresh.key), `during ${n}`));
    }
    const refused = await ask(closed.client(fresh.key), 'during');
    expect(refused).toMatchObject({ status: 503, code: 'store_unavailable', retryAfter: '1' });
    expect(refused.ms).toBeLessThan(STORE_TIMEOUT_MS + SLACK_MS);

    await store.restart();
    await recover(open, clock, free);
    await recover(closed, clock, free);
    fresh.answered.push(await ask(closed.client(fresh.key), 'after'));
    // Every settlement kept during the outage goes in, once, when the instances write back.
    await open.composed.gateway.flush();
    await closed.composed.gateway.flush();
    for (const t of [leased, fresh]) {
      expect(t.answered.map((o) => o.status)).toEqual(Array(t.answered.length).fill(200));
      const seen = t.answered.reduce((sum, o) => sum + (o.cost ?? 0), 0);
      expect(seen).toBeGreaterThan(0);
      const spent = (await open.composed.state.budgetLedger.change(t.id, budgetPeriod(clock.now()), { spent: 0 })).committed;
      expect(spent).toBeCloseTo(seen, 9);
    }
  });

  test('rate limits: closed mode refuses limited tenants with 503 store_unavailable (retryable), and still serves unlimited ones', async () => {
    const clock = fakeClock();
    const gw = await start(clock.now, { STORE_FAILURE_MODE: 'closed' });
    const limited = `gw-rl-${randomUUID()}`;
    const free = `gw-free-${randomUUID()}`;
    await backend.addTenant([gw], limited, tenant(`rl-${randomUUID()}`, { rate_limit_rpm: 100 }));
    await backend.addTenant([gw], free, tenant(`free-${randomUUID()}`));
    expect((await ask(gw.client(limited), 'before')).status).toBe(200);
    expect((await ask(gw.client(free), 'before')).status).toBe(200);

    await store.kill();
    for (let n = 0; n < 5; n++) {
      const o = await ask(gw.client(limited), `during ${n}`);
      expect(o).toMatchObject({ status: 503, code: 'store_unavailable', retryAfter: '1' });
      expect(o.ms).toBeLessThan(STORE_TIMEOUT_MS + SLACK_MS);
    }
    expect((await ask(gw.client(free), 'during')).status).toBe(200);

    await store.restart();
    await recover(gw, clock, free);
    expect((await ask(gw.client(limited), 'after')).status).toBe(200);
  });

  test('cache: while the store is down a get is a miss and a set is skipped, never an error; after the restart the shared cache serves again', async () => {
    const clock = fakeClock();
    const a = await start(clock.now);
    const b = await start(clock.now);
    const key = `gw-cache-${randomUUID()}`;
    await backend.addTenant([a, b], key, tenant(`cache-${randomUUID()}`));
    const x = `cached before ${randomUUID()}`;
    const y = `asked during ${randomUUID()}`;
    expect(await ask(a.client(key), x, { temperature: 0 })).toMatchObject({ status: 200, cacheHit: false });
    expect(await ask(b.client(key), x, { temperature: 0 })).toMatchObject({ status: 200, cacheHit: true }); // shared

    await store.kill();
    const upstreamBefore = upstream.requests.length;
    expect(await ask(a.client(key), x, { temperature: 0 })).toMatchObject({ status: 200, cacheHit: false });
    expect(await ask(a.client(key), y, { temperature: 0 })).toMatchObject({ status: 200, cacheHit: false });
    expect(await ask(a.client(key), y, { temperature: 0 })).toMatchObject({ status: 200, cacheHit: false });
    expect(upstream.requests.length - upstreamBefore).toBe(3); // each miss went to the provider

    await store.restart();
    await recover(a, clock, key);
    // What was cached before the outage is there again for every instance...
    expect(await ask(b.client(key), x, { temperature: 0 })).toMatchObject({ status: 200, cacheHit: true });
    // ...and a response cached by one instance now is a hit on the other.
    const z = `cached after ${randomUUID()}`;
    expect(await ask(a.client(key), z, { temperature: 0 })).toMatchObject({ cacheHit: false });
    await eventually('the write reached the shared cache', async () => (await ask(b.client(key), z, { temperature: 0 })).cacheHit === true, 2_000);
  });

  test("breaker state: while the store is down each instance's own breaker decides; after the restart the shared state is used again", async () => {
    const clock = fakeClock();
    // One provider, no fallback: a failure is the client's 502 and the breaker is plain to see.
    const routing = { fallback_providers: [], circuit_breaker: { failure_threshold: 2, success_threshold: 1, open_seconds: 30 } };
    const a = await start(clock.now, {}, routing);
    const b = await start(clock.now, {}, routing);
    const key = `gw-cb-${randomUUID()}`;
    await backend.addTenant([a, b], key, tenant(`cb-${randomUUID()}`));
    expect((await ask(a.client(key), 'healthy')).status).toBe(200);
    expect((await ask(b.client(key), 'healthy')).status).toBe(200);

    await store.kill();
    upstream.setBehaviour({ status: 500 });
    expect((await ask(a.client(key), 'fail 1')).status).toBe(502);
    expect((await ask(a.client(key), 'fail 2')).status).toBe(502);
    const sent = upstream.requests.length;
    // A's own breaker is open: refused without calling the provider.
    expect((await ask(a.client(key), 'refused')).status).toBe(503);
    expect(upstream.requests.length).toBe(sent);
    // B never saw those failures (nothing could be shared): its own breaker is closed.
    expect((await ask(b.client(key), 'b tries')).status).toBe(502);
    expect(upstream.requests.length).toBe(sent + 1);

    upstream.setBehaviour(null);
    await store.restart();
    // Probe with an unlimited, cacheable request: the breaker path is not needed to find the store back.
    await recover(a, clock, key);
    await recover(b, clock, key);
    // Shared again: a breaker A opens now is seen by B (after B's 1 s read-through cache).
    upstream.setBehaviour({ status: 500 });
    clock.advance(31_000); // past A's own open period from the outage
    await ask(a.client(key), 'fail again 1');
    await ask(a.client(key), 'fail again 2');
    clock.advance(1_100);
    const before = upstream.requests.length;
    expect((await ask(b.client(key), 'b refused')).status).toBe(503);
    expect(upstream.requests.length).toBe(before);
  });

  test('/v1/usage answers 503 store_unavailable while the store is down, at once, and 200 after the restart', async () => {
    const clock = fakeClock();
    const gw = await start(clock.now);
    const key = `gw-usage-${randomUUID()}`;
    await backend.addTenant([gw], key, tenant(`usage-${randomUUID()}`));
    const usage = () => fetch(`${gw.url}/v1/usage`, { headers: { authorization: `Bearer ${key}` } });
    expect((await usage()).status).toBe(200);

    await store.kill();
    for (let n = 0; n < 4; n++) {
      const started = Date.now();
      const res = await usage();
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('store_unavailable');
      expect(Date.now() - started).toBeLessThan(STORE_TIMEOUT_MS + SLACK_MS);
    }

    await store.restart();
    await recover(gw, clock, key);
    expect((await usage()).status).toBe(200);
  });

  test('/health: 200 within its deadline with status "degraded" and the store named "down"; ?ready=1 is 503; ok again after the restart', async () => {
    const clock = fakeClock();
    const gw = await start(clock.now);
    const key = `gw-health-${randomUUID()}`;
    await backend.addTenant([gw], key, tenant(`health-${randomUUID()}`));
    await ask(gw.client(key), 'warm', { temperature: 0 });
    const healthy = await getJson(`${gw.url}/health`);
    expect(healthy.status).toBe(200);
    expect(healthy.body.stores).toEqual({ [backend.name]: 'ok' });
    expect(healthy.body.status).toBe('healthy');
    expect((await getJson(`${gw.url}/health?ready=1`)).status).toBe(200);

    await store.kill();
    await driveDown(gw, key);
    clock.advance(6_000); // past the health answer's own 5 s cache
    const degraded = await getJson(`${gw.url}/health`);
    expect(degraded.status).toBe(200);
    expect(degraded.ms).toBeLessThan(1_000 + SLACK_MS);
    expect(degraded.body).toMatchObject({ status: 'degraded', stores: { [backend.name]: 'down' } });
    const ready = await getJson(`${gw.url}/health?ready=1`);
    expect(ready.status).toBe(503);
    expect(ready.ms).toBeLessThan(1_000 + SLACK_MS);

    await store.restart();
    await recover(gw, clock, key);
    clock.advance(6_000);
    const back = await getJson(`${gw.url}/health`);
    expect(back.body).toMatchObject({ status: 'healthy', stores: { [backend.name]: 'ok' } });
    expect((await getJson(`${gw.url}/health?ready=1`)).status).toBe(200);
  });

  const HEALTH_FINDS_STORE_BACK =
    'a store that comes back is found by /health alone: ?ready=1 returns to 200 with no API traffic ' +
    '(a readiness check that took the instance out of rotation brings it back)';
  test(HEALTH_FINDS_STORE_BACK, async () => {
    const clock = fakeClock();
    // Redis's default: breaker state in process (USE_DISTRIBUTED_CB unset), so /health's read of
    // the breakers does not touch the store; nothing but the guard itself can find it back.
    const gw = await start(clock.now, backend.name === 'redis' ? { USE_DISTRIBUTED_CB: 'false' } : {});
    const key = `gw-ready-${randomUUID()}`;
    await backend.addTenant([gw], key, tenant(`ready-${randomUUID()}`));
    await ask(gw.client(key), 'warm', { temperature: 0 });
    await store.kill();
    await driveDown(gw, key);
    expect((await getJson(`${gw.url}/health?ready=1`)).status).toBe(503);

    await store.restart();
    // Only health checks from here on, as from a load balancer that stopped sending requests.
    const { ms } = await eventually(
      'ready again',
      async () => {
        clock.advance(PROBE_MS);
        const ready = await getJson(`${gw.url}/health?ready=1`);
        expect(ready.ms).toBeLessThan(1_000 + SLACK_MS);
        return ready.status === 200;
      },
      5_000,
      50,
    );
    expect(ms).toBeLessThan(5_000);
    expect((await getJson(`${gw.url}/health`)).body.stores).toEqual({ [backend.name]: 'ok' });
  });

  const HALF_OPEN_STORE_FOUND_BACK =
    'a store that vanished without closing its connections (half-open) is found back at its address: ' +
    'the client drops a silent connection and opens a new one';
  test(HALF_OPEN_STORE_FOUND_BACK, async () => {
    const clock = fakeClock();
    const proxy = await startTcpProxy({ port: store.port });
    proxies.push(proxy);
    const address = backend.name === 'redis' ? `redis://127.0.0.1:${proxy.port}` : `http://127.0.0.1:${proxy.port}`;
    const gw = await start(clock.now, {}, undefined, address);
    const key = `gw-halfopen-${randomUUID()}`;
    await backend.addTenant([gw], key, tenant(`halfopen-${randomUUID()}`, { rate_limit_rpm: 1000 }));
    expect((await ask(gw.client(key), 'before', { temperature: 0 })).status).toBe(200);

    proxy.blackhole();
    await driveDown(gw, key);
    // The old connections never answer nor close; a new connection reaches the store.
    await proxy.restore({ abandonHeld: true });
    await recover(gw, clock, key);
    expect((await ask(gw.client(key), 'after', { temperature: 0 })).status).toBe(200);
  });

  test('calls while the store is marked down fail fast: no request reaches the store or waits for it, except one probe per interval', async () => {
    const clock = fakeClock();
    const gw = await start(clock.now);
    const key = `gw-fast-${randomUUID()}`;
    await backend.addTenant([gw], key, tenant(`fast-${randomUUID()}`, { rate_limit_rpm: 1000 }));
    expect((await ask(gw.client(key), 'seen before')).status).toBe(200); // a key the instance knows
    await store.kill();
    await driveDown(gw, key);
    const errors = storeErrors(gw);
    const outcomes = await Promise.all(Array.from({ length: 30 }, (_, n) => ask(gw.client(key), `fast ${n} ${randomUUID()}`, { temperature: 0 })));
    expect(outcomes.every((o) => o.status === 200)).toBe(true);
    // Limiter, cache get and cache set of 30 requests: none was a store call (none failed as one).
    expect(storeErrors(gw)).toBe(errors);
    // One probe interval later exactly one call goes to the store (and fails: it is still dead).
    clock.advance(PROBE_MS);
    await Promise.all(Array.from({ length: 10 }, (_, n) => ask(gw.client(key), `probe ${n} ${randomUUID()}`, { temperature: 0 })));
    expect(storeErrors(gw)).toBe(errors + 1);
    expect(guardOf(gw).status).toBe('down');
  });

  test('a slow store (1 s of latency through a TCP proxy) is bounded by STORE_TIMEOUT and then treated as down, not called until a probe', async () => {
    const clock = fakeClock();
    const proxy = await startTcpProxy({ port: store.port });
    proxies.push(proxy);
    const address = backend.name === 'redis' ? `redis://127.0.0.1:${proxy.port}` : `http://127.0.0.1:${proxy.port}`;
    const gw = await start(clock.now, {}, undefined, address);
    const key = `gw-slow-${randomUUID()}`;
    await backend.addTenant([gw], key, tenant(`slow-${randomUUID()}`, { rate_limit_rpm: 1000 }));
    expect((await ask(gw.client(key), 'fast store', { temperature: 0 })).status).toBe(200);

    proxy.delay(1_000);
    // Each of the requests that find it out waits at most the deadline (twice: the limiter and the
    // cache run one after the other), never the store's full second.
    const n = await driveDown(gw, key);
    expect(n).toBeLessThanOrEqual(3);
    proxy.resetCounts();
    const errors = storeErrors(gw);
    const outcomes: Outcome[] = [];
    for (let i = 0; i < 10; i++) outcomes.push(await ask(gw.client(key), `down ${i} ${randomUUID()}`, { temperature: 0 }));
    expect(outcomes.map((o) => o.status)).toEqual(Array(10).fill(200));
    // Nobody waited for the store: not one request-path call was sent to it, none timed out, and
    // the typical request took less than the deadline alone (the rest is this machine's load).
    expect(requestPathCalls(proxy)).toBe(0);
    expect(storeErrors(gw)).toBe(errors);
    const times = outcomes.map((o) => o.ms).sort((x, y) => x - y);
    expect(times[5]).toBeLessThan(STORE_TIMEOUT_MS);
    expect(times[9]).toBeLessThan(STORE_TIMEOUT_MS + SLACK_MS);

    clock.advance(PROBE_MS);
    const probe = await ask(gw.client(key), `probe ${randomUUID()}`, { temperature: 0 });
    expect(probe.status).toBe(200);
    expect(probe.ms).toBeLessThan(STORE_TIMEOUT_MS + SLACK_MS);
    expect(requestPathCalls(proxy)).toBeGreaterThanOrEqual(1);
    expect(guardOf(gw).status).toBe('down');

    await proxy.restore();
    await recover(gw, clock, key);
    const after = await ask(gw.client(key), `fast again ${randomUUID()}`, { temperature: 0 });
    expect(after.status).toBe(200);
  });
});

describe('dynamodb outage: tenants', () => {
  let upstream: FakeUpstream;
  let store: StoreProcess & { address: string };
  let instances: Instance[] = [];

  beforeAll(async () => {
    upstream = await startOpenAIUpstream();
    store = await dynamoBackend.start();
  });
  afterAll(async () => {
    await store?.stop();
    await upstream?.close();
  });
  let space: string;
  beforeEach(async () => {
    if (!store.running) await store.restart();
    space = `tenants-${randomUUID().slice(0, 8)}`;
  });
  afterEach(async () => {
    if (!store.running) await store.restart();
    await Promise.all(instances.map((i) => i.close()));
    instances = [];
  });

  const start = async (now: () => number, extra: Env = {}): Promise<Instance> => {
    const i = await startInstance(
      {
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: upstream.url,
        OLLAMA_BASE_URL: 'http://127.0.0.1:1',
        DEFAULT_TENANT_ENABLED: 'false',
        ...dynamoBackend.env(store.address, space),
        ...extra,
      },
      now,
    );
    instances.push(i);
    return i;
  };

  const KNOWN_KEY_KEEPS_WORKING =
    'a key seen before the outage keeps working (last known good, past its cache TTL); a never-seen key is 503 store_unavailable, never 401 or 500';
  test(KNOWN_KEY_KEEPS_WORKING, async () => {
    const clock = fakeClock();
    const gw = await start(clock.now);
    const seen = `gw-seen-${randomUUID()}`;
    const unseen = `gw-unseen-${randomUUID()}`;
    await dynamoBackend.addTenant([gw], seen, tenant(`seen-${randomUUID()}`));
    await dynamoBackend.addTenant([gw], unseen, tenant(`unseen-${randomUUID()}`)); // exists, never asked for
    expect((await ask(gw.client(seen), 'before')).status).toBe(200);

    await store.kill();
    clock.advance(1_500); // past TENANT_CACHE_TTL (1 s): every lookup goes to the store now
    for (let n = 0; n < 5; n++) {
      expect((await ask(gw.client(seen), `during ${n}`)).status).toBe(200);
      expect(await ask(gw.client(unseen), `during ${n}`)).toMatchObject({ status: 503, code: 'store_unavailable', retryAfter: '1' });
      expect(await ask(gw.client(`gw-bogus-${randomUUID()}`), `during ${n}`)).toMatchObject({ status: 503, code: 'store_unavailable' });
    }
    expect(gw.composed.guards.for('dynamodb').status).toBe('down');

    await store.restart();
    await eventually(
      'the unseen key works once the store is back',
      async () => {
        clock.advance(PROBE_MS);
        return (await ask(gw.client(unseen), 'after')).status === 200;
      },
      10_000,
      50,
    );
    // A key that is really unknown is 401 again, now that the store can say so.
    expect(await ask(gw.client(`gw-bogus-${randomUUID()}`), 'after')).toMatchObject({ status: 401 });
  });

  test('a disabled tenant stays refused (403) while the store is down', async () => {
    const clock = fakeClock();
    const gw = await start(clock.now);
    const key = `gw-disabled-${randomUUID()}`;
    await dynamoBackend.addTenant([gw], key, tenant(`disabled-${randomUUID()}`, { enabled: false }));
    expect((await ask(gw.client(key), 'before')).status).toBe(403);
    await store.kill();
    clock.advance(1_500);
    for (let n = 0; n < 4; n++) expect(await ask(gw.client(key), `during ${n}`)).toMatchObject({ status: 403, code: 'tenant_disabled' });
  });

  test('a key last seen as unknown is 503 during the outage, not 401: the store, not the key, is in doubt', async () => {
    const clock = fakeClock();
    const gw = await start(clock.now);
    const key = `gw-unknown-${randomUUID()}`;
    expect((await ask(gw.client(key), 'before')).status).toBe(401);
    await store.kill();
    clock.advance(1_500);
    expect(await ask(gw.client(key), 'during')).toMatchObject({ status: 503, code: 'store_unavailable' });
  });

  test('last known good lasts TENANT_STALE_TTL: after it the seen key too is 503', async () => {
    const clock = fakeClock();
    const gw = await start(clock.now, { TENANT_STALE_TTL: '60' });
    const key = `gw-stale-${randomUUID()}`;
    await dynamoBackend.addTenant([gw], key, tenant(`stale-${randomUUID()}`));
    expect((await ask(gw.client(key), 'before')).status).toBe(200);
    await store.kill();
    clock.advance(59_000);
    expect((await ask(gw.client(key), 'within')).status).toBe(200);
    clock.advance(2_000);
    expect(await ask(gw.client(key), 'past')).toMatchObject({ status: 503, code: 'store_unavailable' });
  });
});
