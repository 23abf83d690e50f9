// functions/adapters/dynamodb — DynamoDB implementations of the ports (tenants with key pointers,
// admin users, audit trail, rate limits, response cache, breaker state, budget ledger, usage totals,
// alert claims), each checked by its port's contract suite on dynalite. Tables and key schemas are
// data in tables.ts, which the CDK stack reads too; adapters/backends.ts decides what DynamoDB serves.
//
// The DynamoDB client the adapters share. One per process: its keep-alive sockets are what keep
// a warm Lambda's store calls at one round trip instead of a TLS handshake each.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';

export interface DynamoClientOptions {
  /** Defaults to AWS_REGION, then us-east-1 (a local endpoint ignores it). */
  region?: string;
  /** A local DynamoDB (dynalite); defaults to DYNAMODB_ENDPOINT. Unset = the real regional endpoint. */
  endpoint?: string;
  /**
   * The request path's deadline per call (STORE_TIMEOUT): connecting and the whole exchange must
   * fit in it, and a failed call is not retried (its caller degrades instead). Unset: 3 s to
   * connect, 3 s per attempt and the SDK's retries (3 attempts), for work nobody waits on (admin,
   * aggregation): a store that accepts connections but never answers costs about 10 s, not 30.
   */
  timeoutMs?: number;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** A local endpoint does not check signatures; it still needs some credentials to sign with. */
function needsPlaceholderCredentials(endpoint: string | undefined): boolean {
  if (endpoint === undefined || process.env.AWS_ACCESS_KEY_ID) return false;
  try {
    return LOOPBACK.has(new URL(endpoint).hostname);
  } catch {
    return false;
  }
}

export function createDocumentClient(opts: DynamoClientOptions = {}): DynamoDBDocumentClient {
  const endpoint = opts.endpoint ?? (process.env.DYNAMODB_ENDPOINT || undefined);
  const client = new DynamoDBClient({
    region: opts.region ?? (process.env.AWS_REGION || 'us-east-1'),
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(needsPlaceholderCredentials(endpoint) ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    ...(opts.timeoutMs !== undefined ? { maxAttempts: 1 } : {}),
    requestHandler: {
      httpAgent: new HttpAgent({ keepAlive: true }),
      httpsAgent: new HttpsAgent({ keepAlive: true }),
      connectionTimeout: opts.timeoutMs ?? 3_000,
      requestTimeout: opts.timeoutMs ?? 3_000,
      throwOnRequestTimeout: true,
    },
  });
  return DynamoDBDocumentClient.from(client, {
    // Optional fields (default_provider, expires_at, tenant_id) are simply left out of the item.
    marshallOptions: { removeUndefinedValues: true },
  });
}

/** A conditional write whose condition did not hold (the item changed or already exists). */
export function isConditionFailed(err: unknown): boolean {
  return (
    err instanceof ConditionalCheckFailedException ||
    (typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'ConditionalCheckFailedException')
  );
}

/** A page of a query or scan: its items, and where the next page starts (none: the last). */
interface Page {
  Items?: Record<string, unknown>[];
  LastEvaluatedKey?: Record<string, unknown>;
}

/** Every item over all pages, `read` asked for each page from where the last one ended. */
async function allPages(read: (start: Record<string, unknown> | undefined) => Promise<Page>): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await read(start);
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/**
 * Every item of a table whose sort key is `sk`, over all scan pages. For admin listings only:
 * a scan reads the whole table.
 */
export function scanBySortKey(doc: DynamoDBDocumentClient, tableName: string, sk: string): Promise<Record<string, unknown>[]> {
  return allPages((start) =>
    doc.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: 'sk = :sk',
        ExpressionAttributeValues: { ':sk': sk },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    ),
  );
}

/**
 * Every item under the partition key `pk`, over all query pages, read consistently (a write
 * another instance just made is seen at once).
 */
export function queryPartition(doc: DynamoDBDocumentClient, tableName: string, pk: string): Promise<Record<string, unknown>[]> {
  return allPages((start) =>
    doc.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    ),
  );
}
