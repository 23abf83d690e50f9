// How usage events travel: the SQS queue (real SQS client against a fake on the JSON protocol)
// batches, retries refused entries and falls back, all within bounds; the in-process queue keeps
// what a failing store refuses and re-applies it when the store is back (on a virtual clock here;
// over real stores killed and restarted in test/integration/usage-outage.test.ts); an event
// nobody takes ends in the log, whole. Budget alerts: claimed once, given back on failure.
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { SQSClient } from '@aws-sdk/client-sqs';
import { WebhookAlertPublisher } from '../../functions/adapters/alerts/webhook';
import { MemoryAlertClaims } from '../../functions/adapters/memory/alert-claims';
import { MemoryUsageStore } from '../../functions/adapters/memory/usage';
import { InProcessUsageQueue } from '../../functions/adapters/usage/in-process-queue';
import { SqsUsageQueue, sqsBatchSender } from '../../functions/adapters/usage/sqs-queue';
import { BudgetAlerter } from '../../functions/core/budget-alerts';
import type { AlertPublisher, BudgetAlert } from '../../functions/core/ports';
import type { Logger } from '../../functions/core/logger';
import { silentLogger } from '../../functions/core/logger';
import type { UsageApplied, UsageEvent, UsageStore, UsageTotals } from '../../functions/core/ports';
import { UsageAggregator } from '../../functions/core/usage-aggregator';
import { startFakeSqs, type FakeAws, type SqsRequest } from '../fakes/aws-services';
import { usageEvent } from '../contract/usage-store.contract';

interface LogLine {
  level: string;
  message: string;
  fields?: Record<string, unknown>;
}
function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, fields });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

describe('SqsUsageQueue', () => {
  let sqs: FakeAws<SqsRequest>;
  let client: SQSClient;
  const queueUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/ai-gateway-usage';

  beforeAll(async () => {
    sqs = await startFakeSqs();
    client = new SQSClient({ endpoint: sqs.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  });
  afterAll(async () => {
    client.destroy();
    await sqs.close();
  });
  beforeEach(() => {
    sqs.requests.length = 0;
    sqs.failNext(0);
  });

  it('sends the events of one tick in SendMessageBatch calls of at most ten, bodies as JSON', async () => {
    const q = new SqsUsageQueue(sqsBatchSender(client), silentLogger, {
      queueUrl,
      fallback: async () => {
        throw new Error('unused');
      },
    });
    const events = Array.from({ length: 25 }, () => usageEvent());
    for (const e of events) await q.publish(e);
    await q.flush();
    expect(sqs.requests.map((r) => [r.action, (r.body.Entries as unknown[]).length])).toEqual([
      ['SendMessageBatch', 10],
      ['SendMessageBatch', 10],
      ['SendMessageBatch', 5],
    ]);
    expect(sqs.requests[0]?.body).toEqual({
      QueueUrl: queueUrl,
      Entries: events.slice(0, 10).map((e, i) => ({ Id: String(i), MessageBody: JSON.stringify(e) })),
    });
  });

  it('retries only the entries SQS refused, then applies those directly', async () => {
    const applied: UsageEvent[] = [];
    const q = new SqsUsageQueue(sqsBatchSender(client), silentLogger, { queueUrl, retryDelaysMs: [1, 1], fallback: async (e) => void applied.push(e) });
    const ok = usageEvent();
    const refused = usageEvent({ model: 'REFUSE-me' });
    await q.publish(ok);
    await q.publish(refused);
    await q.flush();
    expect(sqs.requests.map((r) => (r.body.Entries as unknown[]).length)).toEqual([2, 1, 1]);
    expect(applied).toEqual([refused]);
  });

  it('when the queue is down, publish still resolves and the events go to the fallback at once', async () => {
    const applied: UsageEvent[] = [];
    const q = new SqsUsageQueue(sqsBatchSender(client), silentLogger, { queueUrl, retryDelaysMs: [1], fallback: async (e) => void applied.push(e) });
    sqs.failNext(10);
    const e = usageEvent();
    await expect(q.publish(e)).resolves.toBeUndefined();
    await q.flush();
    // A call that failed as a whole is not sent again: the SDK client has retried it already.
    expect(sqs.requests).toHaveLength(1);
    expect(applied).toEqual([e]);
  });

  it('the direct fallback is retried briefly before anything goes to the log', async () => {
    const { logger, lines } = capturingLogger();
    const waits: number[] = [];
    let calls = 0;
    const applied: UsageEvent[] = [];
    const q = new SqsUsageQueue(sqsBatchSender(client), logger, {
      queueUrl,
      sleep: async (ms) => void waits.push(ms),
      fallback: async (e) => {
        if (++calls <= 2) throw new Error('table unavailable');
        applied.push(e);
      },
    });
    sqs.failNext(10);
    const e = usageEvent();
    await q.publish(e);
    await q.flush();
    expect(waits).toEqual([100, 300]);
    expect(applied).toEqual([e]);
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('without a client of its own, the sender gives up on a queue that never answers within about two seconds', async () => {
    const sockets = new Set<Socket>();
    const silent = createNetServer((socket) => {
      sockets.add(socket);
      socket.on('data', () => undefined);
    }); // accepts, reads, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const saved = {
      endpoint: process.env.AWS_ENDPOINT_URL_SQS,
      region: process.env.AWS_REGION,
      key: process.env.AWS_ACCESS_KEY_ID,
      secret: process.env.AWS_SECRET_ACCESS_KEY,
    };
    const endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    Object.assign(process.env, { AWS_ENDPOINT_URL_SQS: endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
    try {
      const send = sqsBatchSender();
      const started = Date.now();
      await expect(send(`${endpoint}/123456789012/ai-gateway-usage`, [{ Id: '0', MessageBody: '{}' }])).rejects.toThrow(/timed out|timeout/i);
      expect(sockets.size).toBe(2); // one connection per attempt: the timed-out one is not reused
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(1_900); // two attempts of one second
      expect(took).toBeLessThan(4_000);
    } finally {
      for (const [k, v] of [
        ['AWS_ENDPOINT_URL_SQS', saved.endpoint],
        ['AWS_REGION', saved.region],
        ['AWS_ACCESS_KEY_ID', saved.key],
        ['AWS_SECRET_ACCESS_KEY', saved.secret],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it('an event neither the queue nor the store takes is kept whole in the log', async () => {
    const { logger, lines } = capturingLogger();
    const q = new SqsUsageQueue(sqsBatchSender(client), logger, {
      queueUrl,
      retryDelaysMs: [],
      fallback: async () => {
        throw new Error('table unavailable');
      },
    });
    sqs.failNext(10);
    const e = usageEvent();
    await q.publish(e);
    await q.flush();
    const kept = lines.find((l) => l.message === 'usage event not delivered; kept in the log for replay');
    expect(kept).toMatchObject({ level: 'error', fields: { usage_event: e, error: 'table unavailable' } });
  });
});

describe('InProcessUsageQueue', () => {
  /** A store that refuses every apply while `down`, counting the calls it gets. */
  function switchableStore(): { store: UsageStore; memory: MemoryUsageStore; down: boolean; calls: number } {
    const memory = new MemoryUsageStore();
    const s = {
      memory,
      down: false,
      calls: 0,
      store: {
        apply: async (e: UsageEvent, then: (a: UsageApplied) => Promise<void>) => {
          s.calls++;
          if (s.down) throw new Error('store unavailable');
          return memory.apply(e, then);
        },
        totals: (...a: Parameters<MemoryUsageStore['totals']>) => memory.totals(...a),
        totalsByModel: (...a: Parameters<MemoryUsageStore['totalsByModel']>) => memory.totalsByModel(...a),
      } satisfies UsageStore,
    };
    return s;
  }

  /**
   * A clock the back-off advances: each wait the queue asks for is recorded and passes at once,
   * and `onWait` may change the world before the queue carries on.
   */
  function virtualTime(onWait: (waits: number[]) => void = () => {}): { waits: number[]; now: () => number; sleep: (ms: number) => Promise<void> } {
    const waits: number[] = [];
    let t = 0;
    return {
      waits,
      now: () => t,
      sleep: async (ms) => {
        waits.push(ms);
        t += ms;
        onWait(waits);
      },
    };
  }

  const totals = (memory: MemoryUsageStore, tenant: string): Promise<UsageTotals> => memory.totals(tenant, '2030-01-01', '2030-12-31');
  const LOST = 'usage event not delivered; kept in the log for replay';

  it('applies events after the request, and flush waits for them', async () => {
    const { store, memory } = switchableStore();
    const q = new InProcessUsageQueue(new UsageAggregator(store, undefined, silentLogger), silentLogger);
    const e = usageEvent({ tenant_id: 'inproc' });
    await q.publish(e);
    expect((await totals(memory, 'inproc')).request_count).toBe(0);
    await q.flush();
    expect((await totals(memory, 'inproc')).request_count).toBe(1);
  });

  it('keeps what the store refuses and re-applies it once the store is back, with back-off doubling up to 500 ms', async () => {
    const s = switchableStore();
    s.down = true;
    const time = virtualTime((waits) => {
      if (waits.length === 7) s.down = false;
    });
    const { logger, lines } = capturingLogger();
    const q = new InProcessUsageQueue(new UsageAggregator(s.store, undefined, logger), logger, { sleep: time.sleep, now: time.now, flushTimeoutMs: 60_000 });
    const events = Array.from({ length: 30 }, (_, i) => usageEvent({ tenant_id: 'outage', cost_usd: 0.01 * (i + 1) }));
    for (const e of events) await q.publish(e);
    await q.flush();
    // The seventh retry (a probe of ten) goes in; the other twenty follow at once.
    expect(time.waits).toEqual([50, 100, 200, 400, 500, 500, 500, 0]);
    const t = await totals(s.memory, 'outage');
    expect(t.request_count).toBe(30);
    expect(t.cost_usd).toBeCloseTo(
      events.reduce((a, e) => a + e.cost_usd, 0),
      10,
    );
    expect(q.buffered).toBe(0);
    expect(lines.filter((l) => l.message === LOST)).toEqual([]);
    // One line when buffering starts and one when it ends, not one per event or retry.
    expect(lines.map((l) => [l.level, l.message, l.fields])).toEqual([
      ['warn', 'usage store refused events; buffering and retrying', { events: 30, error: 'store unavailable' }],
      ['warn', 'usage store taking events again; draining the buffer', { buffered: 20 }],
      ['info', 'usage buffer drained', { applied: 30 }],
    ]);
  });

  it('an apply that timed out after it did apply is retried and still counted once', async () => {
    const memory = new MemoryUsageStore();
    let calls = 0;
    const store: UsageStore = {
      apply: async (e, then) => {
        const applied = await memory.apply(e, then);
        if (++calls === 1) throw new Error('command timed out'); // the reply was lost, the write was not
        return applied;
      },
      totals: (...a) => memory.totals(...a),
      totalsByModel: (...a) => memory.totalsByModel(...a),
    };
    const time = virtualTime();
    const q = new InProcessUsageQueue(new UsageAggregator(store, undefined, silentLogger), silentLogger, { sleep: time.sleep, now: time.now });
    await q.publish(usageEvent({ tenant_id: 'timeout', cost_usd: 0.5 }));
    await q.flush();
    expect(calls).toBe(2);
    expect(await totals(memory, 'timeout')).toMatchObject({ request_count: 1, cost_usd: 0.5 });
  });

  it('while the store refuses, new events join the buffer without a call of their own; retries go in batches', async () => {
    const s = switchableStore();
    s.down = true;
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const waits: number[] = [];
    const q = new InProcessUsageQueue(new UsageAggregator(s.store, undefined, silentLogger), silentLogger, {
      retryBatch: 4,
      sleep: async (ms) => {
        waits.push(ms);
        await gate;
      },
    });
    for (let i = 0; i < 3; i++) await q.publish(usageEvent({ tenant_id: 'batched' }));
    await new Promise((r) => setImmediate(r)); // the tick's delivery: three calls, all refused
    await new Promise((r) => setImmediate(r));
    expect(s.calls).toBe(3);
    for (let i = 0; i < 7; i++) await q.publish(usageEvent({ tenant_id: 'batched' }));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(s.calls).toBe(3);
    expect(q.buffered).toBe(10);
    s.down = false;
    release();
    await q.flush();
    expect(s.calls).toBe(13);
    expect((await totals(s.memory, 'batched')).request_count).toBe(10);
    expect(waits).toEqual([50, 0, 0]); // three batches of at most four, back to back once the store takes them
  });

  it('beyond maxBuffered the oldest events go to the log, whole, with one warning', async () => {
    const s = switchableStore();
    s.down = true;
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const { logger, lines } = capturingLogger();
    const q = new InProcessUsageQueue(new UsageAggregator(s.store, undefined, logger), logger, { maxBuffered: 3, sleep: () => gate });
    const events = Array.from({ length: 5 }, () => usageEvent({ tenant_id: 'full' }));
    for (const e of events) await q.publish(e);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(lines.filter((l) => l.message === LOST).map((l) => l.fields?.usage_event)).toEqual(events.slice(0, 2));
    expect(lines.filter((l) => l.message === LOST)[0]).toMatchObject({ level: 'error', fields: { error: 'store unavailable' } });
    expect(lines.filter((l) => l.message === 'usage buffer full; keeping the oldest events in the log')).toEqual([
      { level: 'warn', message: 'usage buffer full; keeping the oldest events in the log', fields: { max_buffered: 3 } },
    ]);
    s.down = false;
    release();
    await q.flush();
    expect((await totals(s.memory, 'full')).request_count).toBe(3);
  });

  it('flush waits at most flushTimeoutMs for a store that stays down, then keeps the rest in the log; the queue works on', async () => {
    const s = switchableStore();
    s.down = true;
    const time = virtualTime();
    const { logger, lines } = capturingLogger();
    const q = new InProcessUsageQueue(new UsageAggregator(s.store, undefined, logger), logger, { sleep: time.sleep, now: time.now, flushTimeoutMs: 3_000 });
    const events = [usageEvent({ tenant_id: 'gone' }), usageEvent({ tenant_id: 'gone' })];
    for (const e of events) await q.publish(e);
    await q.flush();
    // Retries within the bound: 50 + 100 + 200 + 400 + 500 × 5 = 3,250 ms of waits, then the log.
    expect(time.waits).toEqual([50, 100, 200, 400, 500, 500, 500, 500, 500]);
    expect(lines.filter((l) => l.message === LOST).map((l) => l.fields?.usage_event)).toEqual(events);
    expect(q.buffered).toBe(0);
    s.down = false;
    await q.publish(usageEvent({ tenant_id: 'gone' }));
    await q.flush();
    expect((await totals(s.memory, 'gone')).request_count).toBe(1);
  });
});

describe('BudgetAlerter', () => {
  const applied = (month: number): UsageApplied => ({ counted: true, month_cost_usd: month });
  const recording = (): AlertPublisher & { sent: BudgetAlert[]; failNext: number } => {
    const p = {
      name: 'recording',
      sent: [] as BudgetAlert[],
      failNext: 0,
      async publish(a: BudgetAlert) {
        if (p.failNext > 0) {
          p.failNext--;
          throw new Error('unreachable');
        }
        p.sent.push(a);
      },
    };
    return p;
  };

  it('sends each threshold the month reaches once, in order, and nothing without a budget', async () => {
    const pub = recording();
    const alerter = new BudgetAlerter(new MemoryAlertClaims(), [pub], silentLogger);
    const e = usageEvent({ tenant_id: 'al', budget_usd: 10, timestamp: '2030-03-05T00:00:00.000Z' });
    for (const month of [2, 5.5, 6, 7.9, 8, 12, 15]) await alerter.check(e, applied(month).month_cost_usd);
    await alerter.check({ ...e, budget_usd: 0 }, 100);
    expect(pub.sent).toEqual(
      [50, 80, 100].map((threshold_pct, i) => ({ tenant_id: 'al', period: '2030-03', threshold_pct, budget_usd: 10, spent_usd: [5.5, 8, 12][i] })),
    );
  });

  it('a failed send gives the claim back and throws; the next check sends it', async () => {
    const pub = recording();
    const claims = new MemoryAlertClaims();
    const alerter = new BudgetAlerter(claims, [pub], silentLogger);
    const e = usageEvent({ tenant_id: 'al2', budget_usd: 1 });
    pub.failNext = 1;
    await expect(alerter.check(e, 0.6)).rejects.toThrow('unreachable');
    expect(await claims.claim('al2', e.timestamp.slice(0, 7), 50)).toBe(true); // it was released
    await claims.release('al2', e.timestamp.slice(0, 7), 50);
    await alerter.check(e, 0.6);
    expect(pub.sent.map((a) => a.threshold_pct)).toEqual([50]);
  });

  it('two aggregators sharing claims send each alert once between them', async () => {
    const pub = recording();
    const claims = new MemoryAlertClaims();
    const a = new BudgetAlerter(claims, [pub], silentLogger);
    const b = new BudgetAlerter(claims, [pub], silentLogger);
    const e = usageEvent({ tenant_id: 'al3', budget_usd: 1 });
    await Promise.all([a.check(e, 1), b.check(e, 1), a.check(e, 1)]);
    expect(pub.sent.map((x) => x.threshold_pct).sort()).toEqual([100, 50, 80]);
  });
});

describe('WebhookAlertPublisher', () => {
  let server: Server;
  let received: Array<{ headers: Record<string, unknown>; body: unknown }> = [];
  let status = 200;
  let url: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => {
        raw += c.toString();
      });
      req.on('end', () => {
        received.push({ headers: req.headers, body: JSON.parse(raw) });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/budget`;
  });
  afterAll(async () => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    received = [];
    status = 200;
  });

  it('posts the alert as JSON with a readable text line', async () => {
    const alert: BudgetAlert = { tenant_id: 'acme', period: '2030-01', threshold_pct: 80, spent_usd: 40.5, budget_usd: 50 };
    await new WebhookAlertPublisher(url).publish(alert);
    expect(received).toHaveLength(1);
    expect(received[0]?.headers['content-type']).toBe('application/json');
    expect(received[0]?.body).toEqual({
      type: 'budget_alert',
      ...alert,
      text: 'AI Gateway: tenant "acme" has used 80% of its 50 USD budget for 2030-01 (40.5000 USD spent)',
    });
  });

  it('fails when the webhook answers an error, so the alert is retried', async () => {
    status = 503;
    await expect(
      new WebhookAlertPublisher(url).publish({ tenant_id: 'acme', period: '2030-01', threshold_pct: 50, spent_usd: 1, budget_usd: 2 }),
    ).rejects.toThrow('webhook answered 503');
  });
});
