// Usage accounting across a store outage, over real sockets: the in-process queue in front of the
// real Redis usage store (a redis-server) and the real DynamoDB usage store (dynalite), with the
// store's process killed (SIGKILL, in the middle of writes) for about two seconds while events
// keep coming, then started again on the same port with its data. Afterwards the totals equal
// the sum of the events published: nothing lost, nothing counted twice; the buffer was found
// back within about a second of the restart; nothing went to the log.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Redis } from 'ioredis';
import { createDocumentClient } from '../../functions/adapters/dynamodb/client';
import { ensureTables } from '../../functions/adapters/dynamodb/tables';
import { DynamoUsageStore } from '../../functions/adapters/dynamodb/usage-store';
import { createRedisClient } from '../../functions/adapters/redis/client';
import { RedisUsageStore } from '../../functions/adapters/redis/usage-store';
import { InProcessUsageQueue } from '../../functions/adapters/usage/in-process-queue';
import type { Logger } from '../../functions/core/logger';
import type { UsageEvent, UsageStore } from '../../functions/core/ports';
import { UsageAggregator } from '../../functions/core/usage-aggregator';
import { usageEvent } from '../contract/usage-store.contract';
import { eventually } from '../helpers/eventually';
import { startRestartableDynalite, startRestartableRedis, type StoreProcess } from '../helpers/store-processes';

jest.setTimeout(60_000);

interface LogLine {
  level: string;
  message: string;
  fields?: Record<string, unknown>;
  at: number;
}
function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, fields, at: Date.now() });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

const DOWN = 'usage store refused events; buffering and retrying';
const BACK = 'usage store taking events again; draining the buffer';
const DRAINED = 'usage buffer drained';

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Publishes one event every `everyMs` until stopped; returns what it published. */
function publishing(queue: InProcessUsageQueue, tenant: string, everyMs: number): { stop: () => Promise<UsageEvent[]> } {
  const sent: UsageEvent[] = [];
  let running = true;
  const loop = (async () => {
    for (let i = 1; running; i++) {
      const e = usageEvent({ tenant_id: tenant, prompt_tokens: i % 17, completion_tokens: i % 5, cost_usd: (i % 9) * 0.0001 });
      sent.push(e);
      await queue.publish(e);
      await pause(everyMs);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return sent;
    },
  };
}

/**
 * The scenario for one store: stream events, kill the store mid-stream, keep streaming while it
 * is down, restart it, stream a little more, then flush and compare.
 */
async function outage(opts: {
  store: StoreProcess;
  usage: UsageStore;
  tenant: string;
  everyMs: number;
}): Promise<{ sent: UsageEvent[]; lines: LogLine[]; bufferedAtRestart: number; foundBackMs: number; drainMs: number }> {
  const { logger, lines } = capturingLogger();
  const queue = new InProcessUsageQueue(new UsageAggregator(opts.usage, undefined, logger), logger);
  const stream = publishing(queue, opts.tenant, opts.everyMs);
  await pause(500);
  await opts.store.kill();
  await pause(2_000);
  const bufferedAtRestart = queue.buffered;
  await opts.store.restart();
  const restarted = Date.now();
  // Found back: the first retry that goes in after the restart says so in the log.
  const { value: back } = await eventually('a retry applied after the restart', () => lines.find((l) => l.message === BACK && l.at >= restarted), 10_000, 10);
  const foundBackMs = back.at - restarted;
  await eventually('the buffer drained after the restart', () => queue.buffered === 0, 20_000, 10);
  const drainMs = Date.now() - restarted;
  await pause(300);
  const sent = await stream.stop();
  await queue.flush();
  return { sent, lines, bufferedAtRestart, foundBackMs, drainMs };
}

function expectTotalsOf(sent: UsageEvent[], totals: { request_count: number; prompt_tokens: number; completion_tokens: number; cost_usd: number }): void {
  expect(totals.request_count).toBe(sent.length);
  expect(totals.prompt_tokens).toBe(sent.reduce((a, e) => a + e.prompt_tokens, 0));
  expect(totals.completion_tokens).toBe(sent.reduce((a, e) => a + e.completion_tokens, 0));
  expect(totals.cost_usd).toBeCloseTo(
    sent.reduce((a, e) => a + e.cost_usd, 0),
    8,
  );
}

/**
 * One line per change of state (down, back, drained), never one per event or retry; nothing in
 * the log for replay. (A command timing out on the busy machine right after the restart may
 * make a second, short episode.)
 */
function expectStateLines(lines: LogLine[]): void {
  expect(lines.filter((l) => l.level === 'error')).toEqual([]);
  expect(lines[0]?.message).toBe(DOWN);
  expect(lines.at(-1)?.message).toBe(DRAINED);
  expect(lines.every((l) => [DOWN, BACK, DRAINED].includes(l.message))).toBe(true);
  expect(lines.length).toBeLessThanOrEqual(6);
}

describe('in-process usage queue, Redis usage store killed and restarted mid-stream', () => {
  let redis: Awaited<ReturnType<typeof startRestartableRedis>>;
  let client: Redis;

  beforeAll(async () => {
    redis = await startRestartableRedis({ persist: true });
    // The request path's client: 150 ms per command, nothing queued while disconnected.
    client = createRedisClient({ url: redis.url, commandTimeoutMs: 150 });
  });
  afterAll(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  test('after recovery the totals equal the events published; none lost, none counted twice, none in the log', async () => {
    const store = new RedisUsageStore(client, { prefix: `outage-${process.pid}:` });
    const { sent, lines, bufferedAtRestart, foundBackMs, drainMs } = await outage({ store: redis, usage: store, tenant: 'redis-outage', everyMs: 4 });
    expect(bufferedAtRestart).toBeGreaterThan(50); // the outage really held events back
    expect(foundBackMs).toBeLessThan(1_500); // reconnect (≤ 500 ms) + back-off (≤ 500 ms), with room for a busy machine
    expect(drainMs).toBeLessThan(3_000);
    expectTotalsOf(sent, await store.totals('redis-outage', '2030-01-01', '2030-12-31'));
    expectStateLines(lines);
  });
});

describe('in-process usage queue, DynamoDB usage store (dynalite) killed and restarted mid-stream', () => {
  let dynalite: Awaited<ReturnType<typeof startRestartableDynalite>>;
  let admin: DynamoDBDocumentClient;
  let usageClient: DynamoDBDocumentClient;
  const tableName = `usage-outage-${process.pid}`;

  beforeAll(async () => {
    dynalite = await startRestartableDynalite({ persist: true });
    admin = createDocumentClient({ endpoint: dynalite.endpoint });
    // The client compose gives usage (not on the request path): the SDK's retries, longer deadlines.
    usageClient = createDocumentClient({ endpoint: dynalite.endpoint });
    await ensureTables(admin, { usage: tableName });
  });
  afterAll(async () => {
    admin?.destroy();
    usageClient?.destroy();
    await dynalite?.stop();
  });

  test('after recovery the totals equal the events published; none lost, none counted twice, none in the log', async () => {
    // Events cut off between their marker and their counters by the kill are taken back by the
    // store's own retry at once (no wait for their lease), and counted once thanks to the flags.
    const store = new DynamoUsageStore(usageClient, { tableName });
    const { sent, lines, bufferedAtRestart, foundBackMs, drainMs } = await outage({ store: dynalite, usage: store, tenant: 'dynamo-outage', everyMs: 8 });
    expect(bufferedAtRestart).toBeGreaterThan(50);
    expect(foundBackMs).toBeLessThan(1_500);
    // Draining is bound by dynalite's write rate (one process, LevelDB on disk, a shared machine).
    expect(drainMs).toBeLessThan(15_000);
    const readBack = new DynamoUsageStore(admin, { tableName });
    expectTotalsOf(sent, await readBack.totals('dynamo-outage', '2030-01-01', '2030-12-31'));
    expectStateLines(lines);
  });
});
