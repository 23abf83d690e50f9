// Two gateway instances sharing a store (a real redis-server; dynalite in its own process), under
// a bounded concurrent load, with the store killed (SIGKILL) for 5 s in the middle and started
// again with its data. What clients must see: no 500 and no other failure (every request of the
// known tenant answered 200), no request held for much longer than STORE_TIMEOUT while the store
// is down, the store back in use soon after it returns, and afterwards usage totals equal to the
// sum of the per-request costs the clients were told: nothing lost, nothing counted twice.
import { Agent, request } from 'node:http';
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { eventually } from '../helpers/eventually';
import { startRestartableDynalite, startRestartableRedis, type StoreProcess } from '../helpers/store-processes';
import { uniqueTablePrefix } from '../helpers/dynalite';
import { composeGateway, type ComposedGateway } from '../../functions/adapters/compose';
import { budgetPeriod } from '../../functions/core/budget';
import { loadConfig, type Env } from '../../functions/config';
import { createJsonLogger, silentLogger } from '../../functions/core/logger';
import { DEFAULT_TENANT, DEFAULT_TENANT_KEY } from '../../functions/core/tenants';
import { startServer, type RunningServer } from '../../functions/local/server';

// Closed-loop clients in the same process as both gateways: enough to keep every store call busy,
// few enough that a shared 2-core test machine is not saturated by the load itself. dynalite (one
// Node process emulating DynamoDB) serves the same ~600 requests/s of this mix to 10 clients as
// to 30; at 30 its own queue outgrows STORE_TIMEOUT, and a store that answers after the deadline
// is, to the gateway, rightly not back.
const CONNECTIONS = { redis: 30, dynamodb: 10 };
const BEFORE_MS = 4_000;
const OUTAGE_MS = 5_000;
const AFTER_MS = 5_000;
const STORE_TIMEOUT_MS = 150;
/** How long after the store serves again both guards may take to find it: 30 probe intervals. */
const FOUND_AGAIN_MS = 15_000;

interface Instance {
  url: string;
  composed: ComposedGateway;
  server: RunningServer;
}

interface Sample {
  startMs: number;
  ms: number;
  status: number;
  cost: number;
}

async function instance(env: Env): Promise<Instance> {
  const config = loadConfig({ ADDR: '127.0.0.1:0', ...env }, () => '', 'test');
  const logger = process.env.OUTAGE_LOG ? createJsonLogger('warn', (l) => process.stderr.write(l)) : silentLogger;
  const composed = await composeGateway(config, logger);
  const server = await startServer({
    host: config.host,
    port: config.port,
    maxBodyBytes: config.maxBodyBytes,
    logger: silentLogger,
    handle: (r) => composed.gateway.handle(r),
  });
  return { url: server.url, composed, server };
}

/** One HTTP exchange over a keep-alive agent: status and body text. */
function exchange(url: string, agent: Agent, method: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: { authorization: `Bearer ${DEFAULT_TENANT_KEY}`, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** One client connection: requests back to back until `untilMs`, alternating instances. */
async function connection(urls: string[], agent: Agent, index: number, untilMs: number, samples: Sample[]): Promise<void> {
  for (let n = index; Date.now() < untilMs; n++) {
    const startMs = Date.now();
    const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `hello ${n}` }] });
    const res = await exchange(`${urls[n % urls.length]}/v1/chat/completions`, agent, 'POST', body);
    const cost = res.status === 200 ? (JSON.parse(res.text) as { x_gateway: { cost_usd: number } }).x_gateway.cost_usd : 0;
    samples.push({ startMs, ms: Date.now() - startMs, status: res.status, cost });
  }
}

const p99 = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
};

describe.each(['redis', 'dynamodb'] as const)('a 5 s %s outage under load', (backend) => {
  let upstream: FakeUpstream;
  let store: StoreProcess;
  let a: Instance;
  let b: Instance;
  let clients: Agent | undefined;

  beforeAll(async () => {
    upstream = await startOpenAIUpstream();
    const env: Env = {
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: upstream.url,
      OLLAMA_BASE_URL: 'http://127.0.0.1:1',
      STORE_TIMEOUT: String(STORE_TIMEOUT_MS),
    };
    if (backend === 'redis') {
      const redis = await startRestartableRedis({ persist: true });
      store = redis;
      env.REDIS_URL = redis.url;
    } else {
      const dynalite = await startRestartableDynalite({ persist: true });
      store = dynalite;
      const p = uniqueTablePrefix('outage');
      Object.assign(env, { DYNAMODB_ENDPOINT: dynalite.endpoint, TENANTS_TABLE: `${p}tenants`, STATE_TABLE: `${p}state`, USAGE_TABLE: `${p}usage` });
    }
    a = await instance(env);
    b = await instance(env);
    // A limited and budgeted tenant: the limit and the budget are far from reached, so every
    // request should be answered 200, but both are checked on every request.
    for (const inst of backend === 'redis' ? [a, b] : [a]) {
      const record = await inst.composed.stores.tenants.get(DEFAULT_TENANT.id);
      if (!record) throw new Error('no default tenant');
      await inst.composed.stores.tenants.update({
        ...record,
        rate_limit_rpm: 1_000_000,
        rate_limit_tpm: 100_000_000,
        budget_usd: 1000,
        version: record.version + 1,
      });
    }
  }, 30_000);

  afterAll(async () => {
    clients?.destroy();
    // As the local server closes: what an instance still holds (usage events, budget settlements)
    // goes to the store while it runs, within flush()'s bound, so no retry is left behind.
    await Promise.all(
      [a, b].map(async (inst) => {
        if (!inst) return;
        await inst.server.shutdown(500);
        await inst.composed.gateway.flush();
        await inst.composed.close();
      }),
    );
    await store?.stop();
    await upstream?.close();
  });

  it('answers every request 200, bounded by the store timeout, and counts each one once', async () => {
    const connections = Number(process.env.OUTAGE_CONNECTIONS ?? CONNECTIONS[backend]);
    const agent = new Agent({ keepAlive: true, maxSockets: connections });
    clients = agent;
    const samples: Sample[] = [];
    const t0 = Date.now();
    const killAt = t0 + BEFORE_MS;
    const restartAt = killAt + OUTAGE_MS;
    const endAt = restartAt + AFTER_MS;
    const load = Promise.all(Array.from({ length: connections }, (_, i) => connection([a.url, b.url], agent, i, endAt, samples)));

    await new Promise((r) => setTimeout(r, killAt - Date.now()));
    await store.kill();
    // When each instance's guard first finds the store again after the restart. Only the first
    // time: a store that has just come back can be overrun by the requests let through to it at
    // once, answer one after STORE_TIMEOUT and be marked down again for a moment; that is the
    // guard doing its job, and whether both are ok at the one instant the test looks is chance.
    // (CI twice found dynamodb not back within 5 s: once with 30 clients on dynalite, its restart
    // and that instant all counted against the guards; once with the other suites running beside
    // it, the load over, and nothing left to probe.)
    const foundAgainAt: Array<number | undefined> = [undefined, undefined];
    [a, b].forEach((inst, i) =>
      inst.composed.guards.for(backend).onChange((status) => {
        if (status === 'ok') foundAgainAt[i] ??= Date.now();
      }),
    );
    await new Promise((r) => setTimeout(r, restartAt - Date.now()));
    // restart() resolves once the store answers a request itself: the time a store takes to serve
    // again after it has come back (reading its data from disk, a cold process on a busy machine)
    // is its own; the guards' time to find it starts there.
    const restarting = Date.now();
    await store.restart();
    const served = Date.now();
    // The store is in use again soon after it is back: both instances' guards find it, through
    // their requests' calls or, as /health does, a ping when a probe is due. Each probe must be
    // answered within STORE_TIMEOUT, which a machine busy with other suites can deny for seconds.
    const notFoundAgain = await eventually(
      `both instances find ${backend} again`,
      () => {
        a.composed.guards.statuses();
        b.composed.guards.statuses();
        return foundAgainAt.every((t) => t !== undefined);
      },
      FOUND_AGAIN_MS,
    ).then(
      () => undefined,
      (err: unknown) => err,
    );
    const storeServesAfterMs = served - restarting;
    // Per instance: ms from the store serving to its guard finding it (0: found before; null: not found).
    const backAfterMs = foundAgainAt.map((t) => (t === undefined ? null : Math.max(0, t - served)));
    await load;

    const statuses: Record<number, number> = {};
    for (const s of samples) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
    const during = samples.filter((s) => s.startMs >= killAt && s.startMs < restartAt);
    const before = samples.filter((s) => s.startMs < killAt);
    // Diagnostics for the log of a failing run.
    const summary = {
      backend,
      requests: samples.length,
      statuses,
      p99BeforeMs: p99(before.map((s) => s.ms)),
      p99DuringMs: p99(during.map((s) => s.ms)),
      maxDuringMs: Math.max(...during.map((s) => s.ms)),
      storeServesAfterMs,
      backAfterMs,
    };
    if (process.env.OUTAGE_SUMMARY) process.stderr.write(`${JSON.stringify(summary)}\n`);
    // Only now, the load over and nothing left running; with the run's figures, for CI's log.
    if (notFoundAgain) throw new Error(`${String(notFoundAgain)}; ${JSON.stringify(summary)}`);
    expect(summary).toEqual(expect.objectContaining({ statuses: { 200: samples.length } }));
    expect(during.length).toBeGreaterThan(100);
    // No request waits on a dead store beyond its deadline (plus the in-process load's own
    // queueing): the outage must not show up as multi-second waits.
    expect(summary.maxDuringMs).toBeLessThan(STORE_TIMEOUT_MS + 3_000);

    // Usage after recovery: the events buffered during the outage go in (in the background, as on
    // a running server), exactly once.
    const costSeen = samples.reduce((sum, s) => sum + s.cost, 0);
    let last = '';
    const usage = await eventually(
      `usage totals to reach ${samples.length} requests`,
      async () => {
        const res = await exchange(`${a.url}/v1/usage`, agent, 'GET');
        last = res.text;
        const body = JSON.parse(res.text) as { request_count: number; total_cost_usd: number };
        return res.status === 200 && body.request_count >= samples.length ? body : undefined;
      },
      30_000,
      250,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}; last answer: ${last}`);
    });
    expect(usage.value.request_count).toBe(samples.length);
    expect(usage.value.total_cost_usd).toBeCloseTo(costSeen, 9);

    // The budget ledger's spend, once both instances have written back what they held: the
    // settlements kept during the outage went in, each once.
    await Promise.all([a.composed.gateway.flush(), b.composed.gateway.flush()]);
    const ledger = await a.composed.state.budgetLedger.change(DEFAULT_TENANT.id, budgetPeriod(Date.now()), { spent: 0 });
    expect(ledger.committed).toBeCloseTo(costSeen, 9);
  }, 60_000);
});
