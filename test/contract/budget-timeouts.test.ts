// "A timed-out call can never apply its effect twice", over real sockets: a delay proxy holds
// what the gateway's client sends to a real redis-server / dynalite for 1 s, the client gives up
// after 200 ms (STORE_TIMEOUT), the call is repeated by the budget code (through a direct
// connection, as after a reconnect), and then the held call lands on the server. Spend must be
// counted exactly once and no reservation left behind. A control shows the held call really lands.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Redis } from 'ioredis';
import { DynamoBudgetLedger } from '../../functions/adapters/dynamodb/budget-ledger';
import { createDocumentClient } from '../../functions/adapters/dynamodb/client';
import { ensureTables, localTableNames } from '../../functions/adapters/dynamodb/tables';
import { RedisBudgetLedger } from '../../functions/adapters/redis/budget-ledger';
import { createRedisClient, redisReady } from '../../functions/adapters/redis/client';
import { BudgetGuard, type BudgetHandle } from '../../functions/core/budget';
import { LedgerCallNotSent, type BudgetChange, type BudgetLedger } from '../../functions/core/ports';
import { budgetLedgerStack } from '../../functions/core/budget-stack';
import { silentLogger } from '../../functions/core/logger';
import type { Tenant } from '../../functions/core/ports';
import { StoreGuard } from '../../functions/core/store-guard';
import { DEFAULT_TENANT } from '../../functions/core/tenants';
import { startDelayProxy, type DelayProxy } from '../helpers/delay-proxy';
import { startDynalite, uniqueTablePrefix, type RunningDynalite } from '../helpers/dynalite';
import { startRedis, type RunningRedis } from '../helpers/redis';

const TIMEOUT_MS = 200;
const HELD_MS = 1000;
const NOW = Date.UTC(2030, 0, 15);
const P = '2030-01';

interface Backend {
  /** Through the proxy, with the request path's short timeout. */
  slow: BudgetLedger;
  /** Straight to the server. */
  fast: BudgetLedger;
  proxy: DelayProxy;
  /** Resolves once the slow route can send (a Redis client reconnects after a held reply idles its socket out). */
  ready(): Promise<unknown>;
}

let redisServer: RunningRedis;
let dynalite: RunningDynalite;
const backends: Record<string, Backend> = {};
const closers: Array<() => Promise<unknown> | void> = [];

beforeAll(async () => {
  [redisServer, dynalite] = await Promise.all([startRedis(), startDynalite()]);

  const redisPort = Number(new URL(redisServer.url).port);
  const redisProxy = await startDelayProxy({ port: redisPort });
  const slowRedis: Redis = createRedisClient({ url: `redis://127.0.0.1:${redisProxy.port}`, commandTimeoutMs: TIMEOUT_MS });
  const fastRedis: Redis = createRedisClient({ url: redisServer.url });
  await Promise.all([redisReady(slowRedis, 2_000), redisReady(fastRedis, 2_000)]);
  closers.push(
    () => slowRedis.disconnect(),
    () => fastRedis.quit(),
    () => redisProxy.close(),
  );
  const prefix = `test:${uniqueTablePrefix('b')}:`;
  backends.redis = {
    slow: new RedisBudgetLedger(slowRedis, { prefix }),
    fast: new RedisBudgetLedger(fastRedis, { prefix }),
    proxy: redisProxy,
    ready: () => redisReady(slowRedis, 5_000),
  };

  const table = localTableNames(uniqueTablePrefix('budget')).state;
  const dynamoPort = Number(new URL(dynalite.endpoint).port);
  const dynamoProxy = await startDelayProxy({ port: dynamoPort });
  const fastDoc: DynamoDBDocumentClient = createDocumentClient({ endpoint: dynalite.endpoint, region: 'us-east-1' });
  const slowDoc: DynamoDBDocumentClient = createDocumentClient({
    endpoint: `http://127.0.0.1:${dynamoProxy.port}`,
    region: 'us-east-1',
    timeoutMs: TIMEOUT_MS,
  });
  await ensureTables(fastDoc, { state: table });
  closers.push(
    () => slowDoc.destroy(),
    () => fastDoc.destroy(),
    () => dynamoProxy.close(),
  );
  backends.dynamodb = {
    slow: new DynamoBudgetLedger(slowDoc, { tableName: table }),
    fast: new DynamoBudgetLedger(fastDoc, { tableName: table }),
    proxy: dynamoProxy,
    ready: async () => undefined,
  };
}, 30_000);

afterAll(async () => {
  for (const close of closers) await close();
  await redisServer?.stop();
  await dynalite?.close();
});

let seq = 0;
const tenant = (): Tenant => ({ ...DEFAULT_TENANT, id: `late-${process.pid}-${++seq}`, budget_usd: 10 });

type Route = 'slow' | 'fast';

/**
 * The gateway's budget stack over a ledger whose route can be switched from slow to direct
 * (`thenVia`: routes for the next calls, one each, before the switched route applies again).
 */
function gateway(b: Backend, leases: boolean): { budget: BudgetGuard; via(route: Route): void; thenVia(...routes: Route[]): void } {
  let route: BudgetLedger = b.fast;
  const next: BudgetLedger[] = [];
  const pick = (): BudgetLedger => next.shift() ?? route;
  const switched: BudgetLedger = {
    change: (t, p, c: BudgetChange) => pick().change(t, p, c),
    fence: (t, p, id) => pick().fence(t, p, id),
  };
  const guard = new StoreGuard({ store: 'store', now: Date.now, logger: silentLogger });
  const ledger = budgetLedgerStack(switched, { guard, leases, failureMode: 'open', logger: silentLogger });
  return {
    budget: new BudgetGuard(ledger, silentLogger, () => NOW),
    via: (r) => {
      route = b[r];
    },
    thenVia: (...rs) => {
      next.push(...rs.map((r) => b[r]));
    },
  };
}

const spent = async (l: BudgetLedger, t: Tenant): Promise<number> => (await l.change(t.id, P, { spent: 0 })).committed;
/** Exactly `room` can still be reserved in the account (checked, then given back). */
async function expectRoom(l: BudgetLedger, t: Tenant, room: number): Promise<void> {
  const probe = (amount: number): Promise<boolean> =>
    l.change(t.id, P, { to: { id: `probe-${amount}`, amount }, spent: 0, limit: t.budget_usd }).then((r) => r.admitted);
  expect(await probe(room + 1e-6)).toBe(false);
  expect(await probe(room)).toBe(true);
  await l.change(t.id, P, { from: { id: `probe-${room}`, amount: room }, spent: 0 });
}

const reserve = (budget: BudgetGuard, t: Tenant, estimate: number): Promise<BudgetHandle> => budget.reserve(t, estimate);

describe.each(['redis', 'dynamodb'])('a call that timed out and lands later: %s', (name) => {
  let b: Backend;
  beforeEach(async () => {
    b = backends[name] as Backend;
    await b.ready();
    b.proxy.delayMs = HELD_MS;
  });
  afterEach(async () => {
    b.proxy.delayMs = 0;
    await b.proxy.idle();
  });

  it('(control) the timed-out call does apply on the server, late', async () => {
    const t = tenant();
    const started = Date.now();
    await expect(b.slow.change(t.id, P, { to: { id: 'r1', amount: 3 }, spent: 0, limit: 10 })).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(HELD_MS);
    await expectRoom(b.fast, t, 10); // not there yet
    await b.proxy.idle();
    await expectRoom(b.fast, t, 7); // there now
  });

  it('a settlement that timed out is repeated and the late original changes nothing: spent once', async () => {
    const t = tenant();
    const gw = gateway(b, false);
    const hold = await reserve(gw.budget, t, 1);
    gw.via('slow');
    hold.settle(0.7);
    await gw.budget.settled(); // timed out: kept
    gw.via('fast');
    await gw.budget.settled(); // repeated: applied
    expect(await spent(b.fast, t)).toBeCloseTo(0.7, 10);
    await b.proxy.idle(); // the original lands
    expect(await spent(b.fast, t)).toBeCloseTo(0.7, 10);
    await expectRoom(b.fast, t, 9.3);
  });

  it('a reservation that timed out is fenced by its settlement: landing late, it holds nothing', async () => {
    const t = tenant();
    const gw = gateway(b, false);
    gw.via('slow');
    const started = Date.now();
    const hold = await reserve(gw.budget, t, 3); // timed out: admitted without the store (open)
    expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    gw.via('fast');
    hold.settle(0.4);
    await gw.budget.settled();
    await b.proxy.idle(); // the reserve lands: fenced
    expect(await spent(b.fast, t)).toBeCloseTo(0.4, 10);
    await expectRoom(b.fast, t, 9.6);
  });

  it('a lease write-back that timed out is repeated as the same change: spent once, the lease given back', async () => {
    const t = tenant();
    const gw = gateway(b, true);
    const hold = await reserve(gw.budget, t, 0.05); // a lease of 0.1 (1 % of 10)
    hold.settle(0.03);
    gw.via('slow');
    await gw.budget.settled(); // the write-back times out: unknown
    gw.via('fast');
    await gw.budget.settled(); // repeated first: applied
    await b.proxy.idle(); // the original lands
    expect(await spent(b.fast, t)).toBeCloseTo(0.03, 10);
    await expectRoom(b.fast, t, 9.97);
  });

  it('spend admitted without the lease, its write-back timed out and landing after the repeat: spent once, nothing left held', async () => {
    const t = tenant();
    const gw = gateway(b, true);
    (await reserve(gw.budget, t, 0.05)).settle(0.03); // on a lease of 0.1
    gw.via('slow');
    await gw.budget.settled(); // the lease goes back with the spend: timed out (unknown)
    (await reserve(gw.budget, t, 0.05)).settle(0.02); // its repeat times out too: admitted degraded
    gw.via('fast');
    await b.ready();
    gw.thenVia('fast', 'slow');
    await gw.budget.settled(); // the repeat answers (no lease now); writing the 0.02 times out
    await gw.budget.settled(); // repeated first: applied
    await gw.budget.settled();
    b.proxy.delayMs = 0; // (what is held keeps its turn; a Redis client's reconnection is not held up)
    await b.proxy.idle(); // every timed-out original lands
    expect(await spent(b.fast, t)).toBeCloseTo(0.05, 10);
    await expectRoom(b.fast, t, 9.95);
  });
});

describe('a call with no connection to go out on', () => {
  // Known never sent: the reservation it named needs no fence (no void marker is left for it).
  it('is reported as never sent by the redis and dynamodb ledgers', async () => {
    const redis = createRedisClient({ url: 'redis://127.0.0.1:1', commandTimeoutMs: TIMEOUT_MS }); // nothing listens on port 1
    const doc = createDocumentClient({ endpoint: 'http://127.0.0.1:1', region: 'us-east-1', timeoutMs: TIMEOUT_MS });
    try {
      const change: BudgetChange = { to: { id: 'r', amount: 1 }, spent: 0, limit: 10 };
      await expect(new RedisBudgetLedger(redis).change('t', P, change)).rejects.toBeInstanceOf(LedgerCallNotSent);
      await expect(new DynamoBudgetLedger(doc, { tableName: 'none' }).change('t', P, change)).rejects.toBeInstanceOf(LedgerCallNotSent);
    } finally {
      redis.disconnect();
      doc.destroy();
    }
  });
});
