// functions/adapters/usage — how usage events travel from the request path to the usage store: the
// in-process queue (local) and SQS (Lambda, with the direct-apply fallback), their batching and
// bounded buffers, and the log as the last resort for an event nothing would take. Applying events
// and sending alerts is core/usage-aggregator.ts; the stores live in the backend folders.
//
// Builds where usage totals and sent-alert claims live, on the backends selectBackends chose (see
// ../backends.ts for the precedence), where alerts go (the log, plus SNS and a webhook when
// configured), and how the request path hands events over (SQS when USAGE_QUEUE_URL is set, else
// the in-process queue). Shared backends are imported only when used.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Redis } from 'ioredis';
import { BudgetAlerter } from '../../core/budget-alerts';
import type { AlertClaims, AlertPublisher } from '../../core/ports';
import { ConfigError, type StoreSettings, type UsageSettings } from '../../config';
import type { Logger } from '../../core/logger';
import type { UsageReader, UsageSink, UsageStore } from '../../core/ports';
import { UsageAggregator } from '../../core/usage-aggregator';
import { MemoryAlertClaims } from '../memory/alert-claims';
import { MemoryUsageStore } from '../memory/usage';
import { selectBackends, type Backends, type StoreBackend } from '../backends';
import type { DatabaseStores } from '../database';
import { InProcessUsageQueue } from './in-process-queue';

export interface UsageStores {
  store: UsageStore;
  /** Totals for the request path (GET /v1/usage): the same store, through a client bounded by STORE_TIMEOUT where it has its own. */
  reader: UsageReader;
  claims: AlertClaims;
  backend: StoreBackend;
}

/** Clients already open for other stores, reused rather than opened twice. */
export interface SharedClients {
  dynamo?: DynamoDBDocumentClient;
  /** The request path's DynamoDB client (STORE_TIMEOUT, no retries), for reads a client waits on. */
  requestPathDynamo?: DynamoDBDocumentClient;
  redis?: Redis;
  /** The PostgreSQL stores (DATABASE_URL), already open. */
  database?: DatabaseStores;
}

type UsageBackends = Pick<Backends, 'usage' | 'alertClaims'>;

/** `backends`: the choice the caller's composition made; selectBackends(config) when not given. */
export async function createUsageStores(
  config: UsageSettings & StoreSettings,
  clients: SharedClients,
  now: () => number,
  backends: UsageBackends = selectBackends(config),
): Promise<UsageStores> {
  const used = [backends.usage, backends.alertClaims];
  // PostgreSQL comes open from the caller (the local server's composition); anywhere else it is refused, never replaced by memory.
  if (used.includes('postgres') && !clients.database) {
    throw new ConfigError('DATABASE_URL: PostgreSQL keeps the state of the local server (npm start); the Lambda functions keep theirs in DynamoDB');
  }
  const dynamo = used.includes('dynamodb') ? await dynamoUsage(config, clients, now) : undefined;
  // The Redis client is the caller's (state.ts opens it); a family chosen for Redis without one stays in memory.
  const redis = clients.redis;
  const onRedis = redis && used.includes('redis') ? await redisUsage(redis) : undefined;
  const database = clients.database;
  const onDatabase = database ? { store: database.usage, reader: database.usageReader, claims: database.claims } : undefined;
  const open: Partial<Record<StoreBackend, SharedUsage>> = { dynamodb: dynamo, redis: onRedis, postgres: onDatabase };
  const usageOn = open[backends.usage];
  const claimsOn = open[backends.alertClaims];
  const memoryStore = new MemoryUsageStore();
  return {
    store: usageOn?.store ?? memoryStore,
    reader: usageOn?.reader ?? memoryStore,
    claims: claimsOn?.claims ?? new MemoryAlertClaims(now),
    backend: usageOn ? backends.usage : 'memory',
  };
}

type SharedUsage = Pick<UsageStores, 'store' | 'reader' | 'claims'>;

async function dynamoUsage(config: UsageSettings & StoreSettings, clients: SharedClients, now: () => number): Promise<SharedUsage> {
  const [{ createDocumentClient }, { ensureTables }, { DynamoUsageStore }, { DynamoAlertClaims }] = await Promise.all([
    import('../dynamodb/client'),
    import('../dynamodb/tables'),
    import('../dynamodb/usage-store'),
    import('../dynamodb/alert-claims'),
  ]);
  const endpoint = config.storage.kind === 'dynamodb' ? config.storage.endpoint : undefined;
  // Applying usage is not on the request path: it gets the patient client (retries, longer deadlines).
  const doc = clients.dynamo ?? createDocumentClient({ endpoint });
  const tableName = config.usage.table;
  if (endpoint) await ensureTables(doc, { usage: tableName });
  const store = new DynamoUsageStore(doc, { tableName, now });
  const reader = clients.requestPathDynamo ? new DynamoUsageStore(clients.requestPathDynamo, { tableName, now }) : store;
  return { store, reader, claims: new DynamoAlertClaims(doc, { tableName, now }) };
}

async function redisUsage(redis: Redis): Promise<SharedUsage> {
  const [{ RedisUsageStore }, { RedisAlertClaims }] = await Promise.all([import('../redis/usage-store'), import('../redis/alert-claims')]);
  const store = new RedisUsageStore(redis);
  return { store, reader: store, claims: new RedisAlertClaims(redis) };
}

/** Where budget alerts go besides the log: SNS (ALERT_TOPIC_ARN) and a webhook (ALERT_WEBHOOK_URL). */
export async function createAlertPublishers(config: UsageSettings): Promise<AlertPublisher[]> {
  const publishers: AlertPublisher[] = [];
  if (config.alerts.webhookUrl) {
    const { WebhookAlertPublisher } = await import('../alerts/webhook');
    publishers.push(new WebhookAlertPublisher(config.alerts.webhookUrl));
  }
  if (config.alerts.topicArn) {
    const [{ SNSClient }, { SnsAlertPublisher }] = await Promise.all([import('@aws-sdk/client-sns'), import('../alerts/sns')]);
    // Bounded (the SDK's default has no request timeout): a Publish takes tens of milliseconds,
    // and an alert that cannot be sent fails its event, which is retried, rather than holding
    // the aggregator's batch. The SDK's own retries stay for throttling.
    const sns = new SNSClient({ requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true } });
    publishers.push(new SnsAlertPublisher(sns, config.alerts.topicArn));
  }
  return publishers;
}

export interface UsagePipeline {
  sink: UsageSink;
  stores: UsageStores;
}

/**
 * The request path's side of accounting. With a queue, alerts are the aggregator function's job
 * and events the queue refuses are applied here directly (without alerts: the aggregator sends
 * any threshold reached when it next applies an event of that tenant). Without one, the
 * in-process queue applies events and sends alerts itself.
 */
export async function createUsagePipeline(config: UsageSettings, stores: UsageStores, logger: Logger): Promise<UsagePipeline> {
  const queueUrl = config.usage.queueUrl;
  if (queueUrl) {
    const { SqsUsageQueue, sqsBatchSender } = await import('./sqs-queue');
    const direct = new UsageAggregator(stores.store, undefined, logger);
    return { stores, sink: new SqsUsageQueue(sqsBatchSender(), logger, { queueUrl, fallback: (e) => direct.apply(e) }) };
  }
  const alerter = new BudgetAlerter(stores.claims, await createAlertPublishers(config), logger);
  return { stores, sink: new InProcessUsageQueue(new UsageAggregator(stores.store, alerter, logger), logger) };
}
