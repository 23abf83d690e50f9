// Builds the tenant, admin-user and audit stores: in memory (the local default), in DynamoDB
// when DYNAMODB_ENDPOINT (local) or TENANTS_TABLE (deployed) is set, or in PostgreSQL with every
// other durable store when DATABASE_URL is (opened by the opener the caller passes: see
// database.ts), as selectBackends reports (backends.ts). The DynamoDB adapters, and the AWS SDK
// under them, are imported only then.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AdminUserRepository, AuditLog, TenantRepository } from '../core/ports';
import type { TenantStore } from '../core/ports';
import { StoreConflictError } from '../core/ports';
import { ConfigError, type StoreSettings, type TenantSettings } from '../config';
import { silentLogger, type Logger } from '../core/logger';
import type { DatabaseStores, OpenDatabase } from './database';
import { DEFAULT_TENANT, DEFAULT_TENANT_KEY, hashApiKey } from '../core/tenants';
import { MemoryAdminUserRepository } from './memory/admin-users';
import { MemoryAuditLog } from './memory/audit-log';
import { MemoryTenantRepository } from './memory/tenant-repository';

export interface Stores {
  kind: 'memory' | 'dynamodb' | 'postgres';
  tenants: TenantRepository;
  /** The request path's key lookup: the same records, through a client bounded by STORE_TIMEOUT. */
  lookup: TenantStore;
  users: AdminUserRepository;
  audit: AuditLog;
  /** The DynamoDB client, for the other stores of this process to share (one client: one connection pool). */
  dynamo?: DynamoDBDocumentClient;
  /** The request path's DynamoDB client (STORE_TIMEOUT per call, no retries), for the state stores. */
  requestPathDynamo?: DynamoDBDocumentClient;
  /** Every durable store on PostgreSQL, for the state and usage builders of this process. */
  database?: DatabaseStores;
}

/** How PostgreSQL is opened, where it may be (the local server); absent, DATABASE_URL is refused. */
export interface DatabaseOpening {
  open?: OpenDatabase;
  logger?: Logger;
}

export async function createStores(
  config: StoreSettings & Pick<TenantSettings, 'defaultTenantEnabled'>,
  now: () => number,
  opening: DatabaseOpening = {},
): Promise<Stores> {
  const storage = config.storage;
  if (storage.kind === 'postgres') {
    if (!opening.open || !config.database) {
      throw new ConfigError('DATABASE_URL: PostgreSQL keeps the state of the local server (npm start); the Lambda functions keep theirs in DynamoDB');
    }
    const database = await opening.open(config.database, { now, logger: opening.logger ?? silentLogger, timeoutMs: config.stores.timeoutMs });
    const stores: Stores = { kind: 'postgres', tenants: database.tenants, lookup: database.lookup, users: database.users, audit: database.audit, database };
    if (config.defaultTenantEnabled) await seedDefaultTenant(stores.tenants, now);
    return stores;
  }
  if (storage.kind === 'memory') {
    const tenants = new MemoryTenantRepository(config.defaultTenantEnabled ? undefined : [], { now });
    return { kind: 'memory', tenants, lookup: tenants, users: new MemoryAdminUserRepository(), audit: new MemoryAuditLog() };
  }
  const [{ createDocumentClient }, { ensureTables }, { DynamoTenantRepository }, { DynamoAdminUserRepository }, { DynamoAuditLog }] = await Promise.all([
    import('./dynamodb/client'),
    import('./dynamodb/tables'),
    import('./dynamodb/tenant-repository'),
    import('./dynamodb/admin-users'),
    import('./dynamodb/audit-log'),
  ]);
  const doc = createDocumentClient({ endpoint: storage.endpoint });
  const tableName = storage.tenantsTable;
  // A local DynamoDB starts empty: create the table. A deployed stack's tables come from CDK.
  if (storage.endpoint) await ensureTables(doc, { tenants: tableName });
  const requestPathDynamo = createDocumentClient({ endpoint: storage.endpoint, timeoutMs: config.stores.timeoutMs });
  const stores: Stores = {
    kind: 'dynamodb',
    dynamo: doc,
    requestPathDynamo,
    tenants: new DynamoTenantRepository(doc, { tableName, now }),
    lookup: new DynamoTenantRepository(requestPathDynamo, { tableName, now }),
    users: new DynamoAdminUserRepository(doc, { tableName }),
    audit: new DynamoAuditLog(doc, { tableName, now }),
  };
  if (config.defaultTenantEnabled) await seedDefaultTenant(stores.tenants, now);
  return stores;
}

/** The documented local tenant, in a shared store that does not have it yet. */
async function seedDefaultTenant(tenants: TenantRepository, now: () => number): Promise<void> {
  if (await tenants.get(DEFAULT_TENANT.id)) return;
  const at = new Date(now()).toISOString();
  try {
    await tenants.create({
      ...DEFAULT_TENANT,
      created_at: at,
      updated_at: at,
      version: 1,
      keys: [{ hash: hashApiKey(DEFAULT_TENANT_KEY), prefix: DEFAULT_TENANT_KEY.slice(0, 10), created_at: at }],
    });
  } catch (err) {
    if (!(err instanceof StoreConflictError)) throw err; // another instance seeded it first
  }
}
