// How usage events travel: the SQS queue (real SQS client against a fake on the JSON protocol)
// batches, retries refused entries and falls back; the in-process queue retries a failing store;
// an event nobody takes ends in the log, whole. Budget alerts: claimed once, given back on failure.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SQSClient } from '@aws-sdk/client-sqs';
import { WebhookAlertPublisher } from '../../functions/adapters/alerts/webhook';
import { MemoryAlertClaims } from '../../functions/adapters/memory/alert-claims';
import { MemoryUsageStore } from '../../functions/adapters/memory/usage';
import { InProcessUsageQueue } from '../../functions/adapters/usage/in-process-queue';
import { SqsUsageQueue, sqsBatchSender } from '../../functions/adapters/usage/sqs-queue';
import { BudgetAlerter, type AlertPublisher, type BudgetAlert } from '../../functions/core/budget-alerts';
import type { Logger } from '../../functions/core/logger';
import { silentLogger } from '../../functions/core/logger';
import type { UsageApplied, UsageEvent, UsageStore } from '../../functions/core/ports';
import { UsageAggregator } from '../../functions/core/usage-aggregator';
import { startFakeSqs, type FakeAws, type SqsRequest } from '../fakes/aws-services';
import { usageEvent } from '../contract/usage-store.contract';

interface LogLine { level: string; message: string; fields?: Record<string, unknown> }
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
    const q = new SqsUsageQueue(sqsBatchSender(client), silentLogger, { queueUrl, fallback: async () => { throw new Error('unused'); } });
    const events = Array.from({ length: 25 }, () => usageEvent());
    for (const e of events) await q.publish(e);
    await q.flush();
    expect(sqs.requests.map((r) => [r.action, (r.body.Entries as unknown[]).length])).toEqual([['SendMessageBatch', 10], ['SendMessageBatch', 10], ['SendMessageBatch', 5]]);
    expect(sqs.requests[0]?.body).toEqual({ QueueUrl: queueUrl, Entries: events.slice(0, 10).map((e, i) => ({ Id: String(i), MessageBody: JSON.stringify(e) })) });
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

  it('when the queue is down, publish still resolves and the events go to the fallback', async () => {
    const applied: UsageEvent[] = [];
    const q = new SqsUsageQueue(sqsBatchSender(client), silentLogger, { queueUrl, retryDelaysMs: [1], fallback: async (e) => void applied.push(e) });
    sqs.failNext(10);
    const e = usageEvent();
    await expect(q.publish(e)).resolves.toBeUndefined();
    await q.flush();
    expect(sqs.requests).toHaveLength(2);
    expect(applied).toEqual([e]);
  });

  it('an event neither the queue nor the store takes is kept whole in the log', async () => {
    const { logger, lines } = capturingLogger();
    const q = new SqsUsageQueue(sqsBatchSender(client), logger, { queueUrl, retryDelaysMs: [], fallback: async () => { throw new Error('table unavailable'); } });
    sqs.failNext(10);
    const e = usageEvent();
    await q.publish(e);
    await q.flush();
    const kept = lines.find((l) => l.message === 'usage event not delivered; kept in the log for replay');
    expect(kept).toMatchObject({ level: 'error', fields: { usage_event: e, error: 'table unavailable' } });
  });
});

describe('InProcessUsageQueue', () => {
  /** A store that fails its first `failures` applies. */
  function flakyStore(failures: number): { store: UsageStore; memory: MemoryUsageStore; calls: () => number } {
    const memory = new MemoryUsageStore();
    let calls = 0;
    const store: UsageStore = {
      apply: async (e, then) => {
        if (++calls <= failures) throw new Error('store unavailable');
        return memory.apply(e, then);
      },
      totals: (...a) => memory.totals(...a),
      totalsByModel: (...a) => memory.totalsByModel(...a),
    };
    return { store, memory, calls: () => calls };
  }

  it('applies events after the request, and flush waits for them', async () => {
    const { store, memory } = flakyStore(0);
    const q = new InProcessUsageQueue(new UsageAggregator(store, undefined, silentLogger), silentLogger);
    const e = usageEvent({ tenant_id: 'inproc' });
    await q.publish(e);
    expect((await memory.totals('inproc', e.timestamp, e.timestamp)).request_count).toBe(0);
    await q.flush();
    expect((await memory.totals('inproc', e.timestamp, e.timestamp)).request_count).toBe(1);
  });

  it('retries a failing store with back-off, and counts the event once', async () => {
    const { store, memory, calls } = flakyStore(2);
    const q = new InProcessUsageQueue(new UsageAggregator(store, undefined, silentLogger), silentLogger, { retryDelaysMs: [1, 1, 1] });
    const e = usageEvent({ tenant_id: 'retry' });
    await q.publish(e);
    await q.flush();
    expect(calls()).toBe(3);
    expect((await memory.totals('retry', e.timestamp, e.timestamp)).request_count).toBe(1);
  });

  it('keeps an event the store never takes in the log', async () => {
    const { logger, lines } = capturingLogger();
    const { store } = flakyStore(100);
    const q = new InProcessUsageQueue(new UsageAggregator(store, undefined, logger), logger, { retryDelaysMs: [1] });
    const e = usageEvent();
    await q.publish(e);
    await q.flush();
    expect(lines.filter((l) => l.message === 'usage event not delivered; kept in the log for replay').map((l) => l.fields?.usage_event)).toEqual([e]);
  });
});

describe('BudgetAlerter', () => {
  const applied = (month: number): UsageApplied => ({ counted: true, month_cost_usd: month });
  const recording = (): AlertPublisher & { sent: BudgetAlert[]; failNext: number } => {
    const p = {
      name: 'recording', sent: [] as BudgetAlert[], failNext: 0,
      async publish(a: BudgetAlert) {
        if (p.failNext > 0) { p.failNext--; throw new Error('unreachable'); }
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
    expect(pub.sent).toEqual([50, 80, 100].map((threshold_pct, i) => ({ tenant_id: 'al', period: '2030-03', threshold_pct, budget_usd: 10, spent_usd: [5.5, 8, 12][i] })));
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
      req.on('data', (c: Buffer) => { raw += c.toString(); });
      req.on('end', () => {
        received.push({ headers: req.headers, body: JSON.parse(raw) });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/budget`;
  });
  afterAll(async () => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => { received = []; status = 200; });

  it('posts the alert as JSON with a readable text line', async () => {
    const alert: BudgetAlert = { tenant_id: 'acme', period: '2030-01', threshold_pct: 80, spent_usd: 40.5, budget_usd: 50 };
    await new WebhookAlertPublisher(url).publish(alert);
    expect(received).toHaveLength(1);
    expect(received[0]?.headers['content-type']).toBe('application/json');
    expect(received[0]?.body).toEqual({ type: 'budget_alert', ...alert, text: 'AI Gateway: tenant "acme" has used 80% of its 50 USD budget for 2030-01 (40.5000 USD spent)' });
  });

  it('fails when the webhook answers an error, so the alert is retried', async () => {
    status = 503;
    await expect(new WebhookAlertPublisher(url).publish({ tenant_id: 'acme', period: '2030-01', threshold_pct: 50, spent_usd: 1, budget_usd: 2 })).rejects.toThrow('webhook answered 503');
  });
});
