// The AWS cost pipeline end to end, offline: a gateway on DynamoDB (dynalite) hands usage events
// to SQS (a fake speaking SQS's JSON protocol, through the real SQS client); the aggregator
// Lambda entry consumes them as the documented SQS event into the usage table and sends budget
// alerts to SNS (a fake speaking SNS's query protocol, through the real SNS client).
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeSns, startFakeSqs, type FakeAws, type SnsRequest, type SqsRequest } from '../fakes/aws-services';
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { startDynalite, uniqueTablePrefix, type RunningDynalite } from '../helpers/dynalite';
import { composeGateway, type ComposedGateway } from '../../functions/adapters/compose';
import { loadConfig, type Env } from '../../functions/config';
import { silentLogger } from '../../functions/core/logger';
import type { UsageEvent } from '../../functions/core/ports';
import { DEFAULT_TENANT, DEFAULT_TENANT_KEY } from '../../functions/core/tenants';
import { startServer, type RunningServer } from '../../functions/local/server';

const FIXTURE = JSON.parse(readFileSync(join(__dirname, '../fixtures/lambda/sqs-event.json'), 'utf8')) as SQSEvent;
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:ai-gateway-alerts';
const QUEUE_PATH = '/123456789012/ai-gateway-usage';

type Handler = (event: SQSEvent) => Promise<SQSBatchResponse>;

let dynalite: RunningDynalite;
let sqs: FakeAws<SqsRequest>;
let sns: FakeAws<SnsRequest>;
let upstream: FakeUpstream;
let composed: ComposedGateway;
let server: RunningServer;
let aggregate: Handler;
const saved = { ...process.env };

/** An SQS event as Lambda delivers it: the documented record, with our bodies and ids. */
function sqsEvent(bodies: string[]): SQSEvent {
  const template = FIXTURE.Records[0] as SQSRecord;
  return { Records: bodies.map((body) => ({ ...template, messageId: randomUUID(), body })) };
}

/** Every event body the gateway sent to the queue so far. */
const queuedBodies = (): string[] =>
  sqs.requests.filter((r) => !r.refused).flatMap((r) => ((r.body.Entries ?? []) as Array<{ MessageBody: string }>).map((e) => e.MessageBody));

const ask = (content: string, key = DEFAULT_TENANT_KEY): Promise<Response> =>
  fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: 'gpt-4o', max_tokens: 5, messages: [{ role: 'user', content }] }),
  });

const usage = async (): Promise<Record<string, number | string>> =>
  (await (await fetch(`${server.url}/v1/usage`, { headers: { authorization: `Bearer ${DEFAULT_TENANT_KEY}` } })).json()) as Record<string, number | string>;

beforeAll(async () => {
  [dynalite, sqs, sns, upstream] = await Promise.all([startDynalite(), startFakeSqs(), startFakeSns(), startOpenAIUpstream()]);
  const tables = uniqueTablePrefix('pipeline');
  const env: Env = {
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_SQS: sqs.url,
    AWS_ENDPOINT_URL_SNS: sns.url,
    DYNAMODB_ENDPOINT: dynalite.endpoint,
    TENANTS_TABLE: `${tables}tenants`,
    STATE_TABLE: `${tables}state`,
    USAGE_TABLE: `${tables}usage`,
    ALERT_TOPIC_ARN: TOPIC,
    LOG_LEVEL: 'error',
    TENANT_CACHE_TTL: '1',
  };
  // The aggregator function gets exactly what the stack gives it (USAGE_TABLE, ALERT_TOPIC_ARN);
  // its SDK finds the local DynamoDB through the SDK's own endpoint variable.
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_SNS: sns.url,
    AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint,
    USAGE_TABLE: env.USAGE_TABLE,
    ALERT_TOPIC_ARN: TOPIC,
    LOG_LEVEL: 'error',
  });
  for (const name of ['DYNAMODB_ENDPOINT', 'TENANTS_TABLE', 'STATE_TABLE']) delete process.env[name];
  const config = loadConfig(
    {
      ...env,
      ADDR: '127.0.0.1:0',
      USAGE_QUEUE_URL: `${sqs.url}${QUEUE_PATH}`,
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: upstream.url,
      OLLAMA_BASE_URL: 'http://127.0.0.1:1',
    },
    () => '',
    'test',
  );
  composed = await composeGateway(config, silentLogger);
  // A budget that one recorded gpt-4o completion (~0.0004 USD) takes past 50 % and two past 100 %.
  const record = await composed.stores.tenants.get(DEFAULT_TENANT.id);
  if (!record) throw new Error('no default tenant');
  await composed.stores.tenants.update({ ...record, budget_usd: 0.0006, version: record.version + 1 });
  server = await startServer({
    host: config.host,
    port: config.port,
    maxBodyBytes: config.maxBodyBytes,
    logger: silentLogger,
    handle: (r) => composed.gateway.handle(r),
  });
  ({ handler: aggregate } = (await import('../../functions/usage/aggregator-lambda')) as { handler: Handler });
});

afterAll(async () => {
  await server?.shutdown(500);
  await composed?.gateway.flush();
  await composed?.state.close();
  await Promise.all([dynalite?.close(), sqs?.close(), sns?.close(), upstream?.close()]);
  process.env = saved;
});

describe('chat → SQS → aggregator → usage table and SNS alerts', () => {
  const sent: UsageEvent[] = [];

  test('each request puts one usage event on the queue, in SendMessageBatch, without waiting for it', async () => {
    const ids: string[] = [];
    for (const content of ['first', 'second']) {
      const res = await ask(content);
      expect(res.status).toBe(200);
      ids.push(res.headers.get('x-request-id') ?? '');
      await composed.gateway.flush();
    }
    expect(sqs.requests.map((r) => r.action)).toEqual(['SendMessageBatch', 'SendMessageBatch']);
    for (const r of sqs.requests) expect(r.body.QueueUrl).toBe(`${sqs.url}${QUEUE_PATH}`);
    sent.push(...queuedBodies().map((b) => JSON.parse(b) as UsageEvent));
    expect(sent.map((e) => e.request_id)).toEqual(ids);
    expect(sent[0]).toMatchObject({
      tenant_id: 'default',
      provider: 'openai',
      model: expect.stringMatching(/^gpt-4o/),
      status: 200,
      cache_hit: false,
      budget_usd: 0.0006,
    });
    expect(sent[0]?.cost_usd).toBeGreaterThan(0.0003);
    // Nothing is counted before the aggregator runs.
    expect((await usage()).request_count).toBe(0);
  });

  test('the aggregator applies the batch; delivering the same batch again changes nothing', async () => {
    const batch = sqsEvent(queuedBodies());
    expect(await aggregate(batch)).toEqual({ batchItemFailures: [] });
    const once = await usage();
    expect(await aggregate(batch)).toEqual({ batchItemFailures: [] });
    expect(await usage()).toEqual(once);
    const cost = sent.reduce((a, e) => a + e.cost_usd, 0);
    expect(once).toMatchObject({ tenant_id: 'default', request_count: 2, budget_usd: 0.0006 });
    expect(once.total_cost_usd).toBeCloseTo(cost, 10);
    expect(once.budget_used_pct).toBeCloseTo((cost / 0.0006) * 100, 4);
  });

  test('thresholds reached are each sent to the SNS topic exactly once', async () => {
    const publishes = sns.requests.filter((r) => r.action === 'Publish');
    expect(publishes.map((r) => Number(r.params['MessageAttributes.entry.2.Value.StringValue'])).sort((a, b) => a - b)).toEqual([50, 80, 100]);
    for (const p of publishes) {
      expect(p.params.TopicArn).toBe(TOPIC);
      expect(p.params.Subject).toMatch(/^AI Gateway budget: default at (50|80|100)%$/);
      expect(p.params.Message).toContain('"tenant_id": "default"');
    }
    // A third delivery still sends nothing new.
    await aggregate(sqsEvent(queuedBodies()));
    expect(sns.requests.filter((r) => r.action === 'Publish')).toHaveLength(3);
  });

  test('the budget is enforced on the request path: the next request gets 429 insufficient_quota', async () => {
    const res = await ask('third');
    expect(res.status).toBe(429);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('insufficient_quota');
  });

  test('a poison record is reported alone; the good records of its batch are applied', async () => {
    const good = { ...sent[0], request_id: `req-${randomUUID()}`, cost_usd: 0 } as UsageEvent;
    const batch = sqsEvent([JSON.stringify(good), 'not json', JSON.stringify({ ...good, request_id: `req-${randomUUID()}`, tenant_id: '' })]);
    const before = (await usage()).request_count as number;
    const out = await aggregate(batch);
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: batch.Records[1]?.messageId }, { itemIdentifier: batch.Records[2]?.messageId }]);
    expect((await usage()).request_count).toBe(before + 1);
  });

  test('an alert SNS refuses fails its record, and the redelivery sends it', async () => {
    const tenant = `t-${randomUUID().slice(0, 8)}`;
    const event: UsageEvent = { ...(sent[0] as UsageEvent), tenant_id: tenant, request_id: `req-${randomUUID()}`, cost_usd: 1, budget_usd: 1 };
    const batch = sqsEvent([JSON.stringify(event)]);
    const published = (): SnsRequest[] => sns.requests.filter((r) => r.action === 'Publish' && !r.refused && r.params.Subject?.includes(tenant));
    sns.failNext(10); // more than the client's own retries
    expect((await aggregate(batch)).batchItemFailures).toHaveLength(1);
    expect(published()).toHaveLength(0);
    expect(sns.requests.filter((r) => r.refused).length).toBeGreaterThan(0);
    expect((await aggregate(batch)).batchItemFailures).toHaveLength(0);
    expect(published().map((r) => r.params.Subject)).toEqual([
      `AI Gateway budget: ${tenant} at 50%`,
      `AI Gateway budget: ${tenant} at 80%`,
      `AI Gateway budget: ${tenant} at 100%`,
    ]);
    // Counted once, though delivered twice.
    const totals = await composed.usage.stores.store.totals(tenant, event.timestamp, event.timestamp);
    expect(totals.request_count).toBe(1);
  });

  test('when SQS refuses, the request still succeeds and its usage goes straight to the usage table', async () => {
    const record = await composed.stores.tenants.get(DEFAULT_TENANT.id);
    if (!record) throw new Error('no default tenant');
    await composed.stores.tenants.update({ ...record, budget_usd: 0, version: record.version + 1 });
    await new Promise((r) => setTimeout(r, 1100)); // the tenant cache (TENANT_CACHE_TTL 1 s) lets go of the old budget
    const before = (await usage()).request_count as number;
    sqs.failNext(100);
    const res = await ask('queue down');
    expect(res.status).toBe(200);
    await composed.gateway.flush();
    sqs.failNext(0);
    expect((await usage()).request_count).toBe(before + 1);
  });
});
