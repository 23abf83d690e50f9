// Builds the tenant, admin-user and audit stores: in memory (the local default), or in DynamoDB
// when DYNAMODB_ENDPOINT (local) or TENANTS_TABLE (deployed) is set, as selectBackends reports
// (backends.ts). The DynamoDB adapters, and the AWS SDK under them, are imported only then.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AdminUserRepository, AuditLog, TenantRepository } from '../core/ports';
import type { TenantStore } from '../core/ports';
import { StoreConflictError } from '../core/ports';
import type { StoreSettings, TenantSettings } from '../config';
import { DEFAULT_TENANT, DEFAULT_TENANT_KEY, hashApiKey } from '../core/tenants';
import { MemoryAdminUserRepository } from './memory/admin-users';
import { MemoryAuditLog } from './memory/audit-log';
import { MemoryTenantRepository } from './memory/tenant-repository';

export interface Stores {
  kind: 'memory' | 'dynamodb';
  tenants: TenantRepository;
  /** The request path's key lookup: the same records, through a client bounded by STORE_TIMEOUT. */
  lookup: TenantStore;
  users: AdminUserRepository;
  audit: AuditLog;
  /** The DynamoDB client, for the other stores of this process to share (one client: one connection pool). */
  dynamo?: DynamoDBDocumentClient;
  /** The request path's DynamoDB client (STORE_TIMEOUT per call, no retries), for the state stores. */
  requestPathDynamo?: DynamoDBDocumentClient;
}

export async function createStores(config: StoreSettings & Pick<TenantSettings, 'defaultTenantEnabled'>, now: () => number): Promise<Stores> {
  const storage = config.storage;
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

/** The documented local tenant, in a DynamoDB that does not have it yet. */
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
