// The gateway's DynamoDB tables as data: the adapters, the local server (DYNAMODB_ENDPOINT), the
// tests and the CDK stack all read names and key schemas from here.
import { CreateTableCommand, DescribeTableCommand, ResourceInUseException, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface TableDefinition {
  partitionKey: { name: string; type: 'S' };
  sortKey: { name: string; type: 'S' };
  billingMode: 'PAY_PER_REQUEST';
  /** The item attribute the stack enables TTL on (local DynamoDB ignores it). */
  ttlAttribute?: string;
}

/**
 * "tenants" holds every management item under generic keys (see each adapter for its items):
 * tenant records, key-hash pointers, admin users and the audit trail.
 * "state" holds the shared request-path state: rate-limit windows, cached responses and breaker
 * states. Its items carry `ttl` (epoch seconds); the stack enables TTL on that attribute, and
 * readers still filter on it because DynamoDB deletes expired items lazily (dynalite never).
 * "usage" holds the aggregated usage per tenant per day and model, monthly totals, the
 * per-request idempotency markers (with `ttl`) and the sent budget alerts.
 */
export const TABLES = {
  tenants: { partitionKey: { name: 'pk', type: 'S' }, sortKey: { name: 'sk', type: 'S' }, billingMode: 'PAY_PER_REQUEST' },
  state: { partitionKey: { name: 'pk', type: 'S' }, sortKey: { name: 'sk', type: 'S' }, billingMode: 'PAY_PER_REQUEST', ttlAttribute: 'ttl' },
  usage: { partitionKey: { name: 'pk', type: 'S' }, sortKey: { name: 'sk', type: 'S' }, billingMode: 'PAY_PER_REQUEST', ttlAttribute: 'ttl' },
} as const satisfies Record<string, TableDefinition>;

export type TableName = keyof typeof TABLES;
export type TableNames = Record<TableName, string>;

/** Names for a local DynamoDB: `<prefix>tenants`, ... */
export function localTableNames(prefix = 'ai-gateway-'): TableNames {
  return { tenants: `${prefix}tenants`, state: `${prefix}state`, usage: `${prefix}usage` };
}

export interface EnsureTablesOptions {
  timeoutMs?: number;
  pollMs?: number;
}

/**
 * Creates those of the named tables that are missing and waits until they are ACTIVE; tables not
 * named are left alone (a process using only "tenants" need not create "state"). Polls
 * DescribeTable itself: the SDK's waiter sleeps at least 20 s, far longer than a local table takes.
 */
export async function ensureTables(client: DynamoDBDocumentClient, names: Partial<TableNames>, opts: EnsureTablesOptions = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const pollMs = opts.pollMs ?? 50;
  await Promise.all(
    (Object.keys(TABLES) as TableName[]).map(async (logical) => {
      const name = names[logical];
      if (name === undefined) return;
      const def = TABLES[logical];
      if ((await tableStatus(client, name)) === undefined) {
        try {
          await client.send(
            new CreateTableCommand({
              TableName: name,
              BillingMode: def.billingMode,
              AttributeDefinitions: [
                { AttributeName: def.partitionKey.name, AttributeType: def.partitionKey.type },
                { AttributeName: def.sortKey.name, AttributeType: def.sortKey.type },
              ],
              KeySchema: [
                { AttributeName: def.partitionKey.name, KeyType: 'HASH' },
                { AttributeName: def.sortKey.name, KeyType: 'RANGE' },
              ],
            }),
          );
        } catch (err) {
          // Another process created it between our describe and create: just wait for it.
          if (!(err instanceof ResourceInUseException)) throw err;
        }
      }
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const status = await tableStatus(client, name);
        if (status === 'ACTIVE') return;
        if (Date.now() > deadline) throw new Error(`DynamoDB table ${name} is not ACTIVE after ${timeoutMs} ms (status ${status ?? 'missing'})`);
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
    }),
  );
}

async function tableStatus(client: DynamoDBDocumentClient, name: string): Promise<string | undefined> {
  try {
    const out = await client.send(new DescribeTableCommand({ TableName: name }));
    return out.Table?.TableStatus ?? 'UNKNOWN';
  } catch (err) {
    if (err instanceof ResourceNotFoundException) return undefined;
    throw err;
  }
}
