// The SQS aggregator Lambda entry when its DynamoDB is down or slow, driven with the documented
// SQS event: the real handler, the real SDK client (through the SDK's own endpoint variable, as
// the stack configures nothing else), dynalite in its own process behind a TCP proxy. Down: every
// record comes back as a batch item failure, none is marked done, and the redelivery once it is
// back applies each exactly once. Slow: the invocation ends at its deadline with every record
// failed instead of running into the function's timeout.
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../functions/adapters/dynamodb/client';
import { ensureTables } from '../../functions/adapters/dynamodb/tables';
import { DynamoUsageStore } from '../../functions/adapters/dynamodb/usage-store';
import type { UsageEvent } from '../../functions/core/ports';
import { usageEvent } from '../contract/usage-store.contract';
import { captureOutput, type CapturedOutput } from '../helpers/captured-output';
import { eventually } from '../helpers/eventually';
import { startRestartableDynalite, type RestartableDynalite } from '../helpers/store-processes';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';

jest.setTimeout(60_000);

const FIXTURE = JSON.parse(readFileSync(join(__dirname, '../fixtures/lambda/sqs-event.json'), 'utf8')) as SQSEvent;
type Handler = (event: SQSEvent, context?: { getRemainingTimeInMillis(): number }) => Promise<SQSBatchResponse>;

let dynalite: RestartableDynalite;
let proxy: TcpProxy;
let admin: DynamoDBDocumentClient;
let aggregate: Handler;
let output: CapturedOutput;
const tableName = `aggregator-outage-${process.pid}`;
const saved = { ...process.env };

/** An SQS event as Lambda delivers it: the documented record, with our bodies and fresh ids. */
function sqsEvent(events: UsageEvent[]): SQSEvent {
  const template = FIXTURE.Records[0] as SQSRecord;
  return { Records: events.map((e) => ({ ...template, messageId: randomUUID(), body: JSON.stringify(e) })) };
}

const failedIds = (out: SQSBatchResponse): string[] => out.batchItemFailures.map((f) => f.itemIdentifier);
const idsOf = (batch: SQSEvent): string[] => batch.Records.map((r) => r.messageId);
const withRemaining = (ms: number): { getRemainingTimeInMillis(): number } => ({ getRemainingTimeInMillis: () => ms });

async function totals(tenant: string): Promise<{ request_count: number; cost_usd: number }> {
  return new DynamoUsageStore(admin, { tableName }).totals(tenant, '2030-01-01', '2030-12-31');
}

beforeAll(async () => {
  dynalite = await startRestartableDynalite({ persist: true });
  proxy = await startTcpProxy({ port: dynalite.port });
  admin = createDocumentClient({ endpoint: dynalite.endpoint });
  await ensureTables(admin, { usage: tableName });
  // What the stack gives the function (USAGE_TABLE); the SDK finds the local endpoint itself.
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_REGION: 'us-east-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${proxy.port}`,
    USAGE_TABLE: tableName,
    LOG_LEVEL: 'info',
  });
  for (const name of ['DYNAMODB_ENDPOINT', 'TENANTS_TABLE', 'STATE_TABLE', 'ALERT_TOPIC_ARN', 'REDIS_URL']) delete process.env[name];
  ({ handler: aggregate } = (await import('../../functions/usage/aggregator-lambda')) as { handler: Handler });
});

afterAll(async () => {
  admin?.destroy();
  await proxy?.close();
  await dynalite?.stop();
  // An attempt abandoned at its deadline logs its failure when the proxy closes: still captured.
  await new Promise((r) => setImmediate(r));
  output?.restore();
  process.env = saved;
});

beforeEach(() => {
  output?.restore();
  output = captureOutput();
});
afterEach(async () => {
  await proxy.restore();
  if (!dynalite.running) await dynalite.restart();
});

test('DynamoDB down: every record comes back as a batch item failure, none done; the redelivery once it is back applies each once', async () => {
  const events = Array.from({ length: 12 }, (_, i) => usageEvent({ tenant_id: 'agg-down', cost_usd: 0.001 * (i + 1) }));
  const batch = sqsEvent(events);
  await dynalite.kill();

  const started = Date.now();
  const down = await aggregate(batch, withRemaining(30_000));
  expect(failedIds(down)).toEqual(idsOf(batch));
  expect(Date.now() - started).toBeLessThan(5_000); // refused connections fail fast, the SDK's retries included
  expect(
    output
      .lines()
      .filter((l) => l.message === 'usage record not applied')
      .map((l) => l.record_id),
  ).toEqual(idsOf(batch));

  await dynalite.restart();
  expect(await totals('agg-down')).toMatchObject({ request_count: 0 }); // nothing was marked done or counted
  expect(await aggregate(batch, withRemaining(30_000))).toEqual({ batchItemFailures: [] });
  const once = await totals('agg-down');
  expect(once.request_count).toBe(12);
  expect(once.cost_usd).toBeCloseTo(
    events.reduce((a, e) => a + e.cost_usd, 0),
    10,
  );
  // SQS may deliver it yet again: nothing changes.
  expect(await aggregate(batch, withRemaining(30_000))).toEqual({ batchItemFailures: [] });
  expect(await totals('agg-down')).toEqual(once);
});

test('DynamoDB slow (replies 3 s late): the invocation ends at its deadline with every record failed; redeliveries then apply each once', async () => {
  const events = Array.from({ length: 8 }, (_, i) => usageEvent({ tenant_id: 'agg-slow', cost_usd: 0.01 * (i + 1) }));
  const batch = sqsEvent(events);
  const DELAY_MS = 3_000;
  proxy.delay(DELAY_MS);

  // Two seconds left in the invocation: the deadline is one second before that.
  const started = Date.now();
  const slow = await aggregate(batch, withRemaining(2_000));
  const took = Date.now() - started;
  expect(failedIds(slow)).toEqual(idsOf(batch));
  expect(took).toBeGreaterThanOrEqual(950);
  expect(took).toBeLessThan(DELAY_MS);
  expect(output.lines().find((l) => l.message === 'usage batch not applied; every record will be delivered again')).toMatchObject({
    level: 'error',
    records: 8,
    error: 'not done within 1000 ms',
  });

  // Back to normal. The abandoned attempt still finishes what it had sent; a redelivery meanwhile
  // finds the events in flight and fails them again, as SQS would see it, until they are done.
  await proxy.restore();
  await eventually('a redelivery with no failures', async () => (await aggregate(batch, withRemaining(30_000))).batchItemFailures.length === 0, 20_000, 250);
  const once = await totals('agg-slow');
  expect(once.request_count).toBe(8);
  expect(once.cost_usd).toBeCloseTo(
    events.reduce((a, e) => a + e.cost_usd, 0),
    10,
  );
  expect(await aggregate(batch, withRemaining(30_000))).toEqual({ batchItemFailures: [] });
  expect(await totals('agg-slow')).toEqual(once);
  // The abandoned attempt's last replies arrive DELAY_MS after it sent them; it then finds its
  // events done. Counted once all the same, and nothing of it is left running after the test.
  await new Promise((r) => setTimeout(r, Math.max(0, started + DELAY_MS + 500 - Date.now())));
  expect(await totals('agg-slow')).toEqual(once);
});

test('without a context (a direct call), the batch deadline is ten seconds', async () => {
  const { BATCH_DEADLINE_MS } = (await import('../../functions/usage/aggregator-lambda')) as { BATCH_DEADLINE_MS: number };
  expect(BATCH_DEADLINE_MS).toBe(10_000);
  const batch = sqsEvent([usageEvent({ tenant_id: 'agg-direct' })]);
  expect(await aggregate(batch)).toEqual({ batchItemFailures: [] });
  expect((await totals('agg-direct')).request_count).toBe(1);
});
