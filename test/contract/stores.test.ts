// Runs each store contract against the memory backend and against DynamoDB (real AWS SDK clients
// talking to an embedded dynalite). Every DynamoDB test gets a table of its own.
import { DeleteTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoAdminUserRepository } from '../../functions/adapters/dynamodb/admin-users';
import { DynamoAuditLog } from '../../functions/adapters/dynamodb/audit-log';
import { createDocumentClient } from '../../functions/adapters/dynamodb/client';
import { ensureTables, localTableNames } from '../../functions/adapters/dynamodb/tables';
import { DynamoTenantRepository } from '../../functions/adapters/dynamodb/tenant-repository';
import { MemoryAdminUserRepository } from '../../functions/adapters/memory/admin-users';
import { MemoryAuditLog } from '../../functions/adapters/memory/audit-log';
import { MemoryTenantRepository } from '../../functions/adapters/memory/tenant-repository';
import { DEFAULT_TENANT, DEFAULT_TENANT_KEY, hashApiKey } from '../../functions/core/tenants';
import { startDynalite, uniqueTablePrefix, type RunningDynalite } from '../helpers/dynalite';
import { adminUserRepositoryContract } from './admin-user-repository.contract';
import { auditLogContract } from './audit-log.contract';
import { tenantRepositoryContract } from './tenant-repository.contract';

let dynalite: RunningDynalite;
let doc: DynamoDBDocumentClient;
const prefix = uniqueTablePrefix('contract');
let tables = 0;

beforeAll(async () => {
  dynalite = await startDynalite();
  doc = createDocumentClient({ endpoint: dynalite.endpoint, region: 'us-east-1' });
});

afterAll(async () => {
  doc?.destroy();
  await dynalite?.close();
});

/** A fresh "tenants" table, and a cleanup that drops it. */
async function freshTable(): Promise<{ tableName: string; cleanup: () => Promise<void> }> {
  const names = localTableNames(`${prefix}${++tables}-`);
  await ensureTables(doc, names);
  return { tableName: names.tenants, cleanup: async () => void (await doc.send(new DeleteTableCommand({ TableName: names.tenants }))) };
}

const noCleanup = async (): Promise<void> => {};

tenantRepositoryContract('memory', async () => ({ repo: new MemoryTenantRepository([]), cleanup: noCleanup }));
tenantRepositoryContract('dynamodb (dynalite)', async () => {
  const { tableName, cleanup } = await freshTable();
  return { repo: new DynamoTenantRepository(doc, { tableName }), cleanup };
});

adminUserRepositoryContract('memory', async () => ({ repo: new MemoryAdminUserRepository(), cleanup: noCleanup }));
adminUserRepositoryContract('dynamodb (dynalite)', async () => {
  const { tableName, cleanup } = await freshTable();
  return { repo: new DynamoAdminUserRepository(doc, { tableName }), cleanup };
});

auditLogContract('memory', async () => ({ repo: new MemoryAuditLog(), cleanup: noCleanup }));
auditLogContract('dynamodb (dynalite)', async () => {
  const { tableName, cleanup } = await freshTable();
  return { repo: new DynamoAuditLog(doc, { tableName }), cleanup };
});

describe('store specifics', () => {
  it('ensureTables creates a missing table once and accepts an existing one', async () => {
    const names = localTableNames(`${prefix}ensure-`);
    await ensureTables(doc, names);
    await ensureTables(doc, names);
    const listed = await doc.send(new ListTablesCommand({}));
    expect(listed.TableNames?.filter((n) => n === names.tenants)).toHaveLength(1);
  });

  it('tenants, admin users and audit entries share one table without seeing each other', async () => {
    const { tableName, cleanup } = await freshTable();
    const tenants = new DynamoTenantRepository(doc, { tableName });
    const users = new DynamoAdminUserRepository(doc, { tableName });
    const audit = new DynamoAuditLog(doc, { tableName });
    await tenants.create({
      ...DEFAULT_TENANT,
      created_at: 'x',
      updated_at: 'x',
      keys: [{ hash: hashApiKey('gw-k'), prefix: 'gw-k', created_at: 'x' }],
      version: 1,
    });
    await users.create({ username: 'admin', role: 'admin', password_hash: 'scrypt$h', created_at: 'x', updated_at: 'x' });
    await audit.append({ id: '1', at: new Date().toISOString(), actor: 'admin', action: 'tenant.create', tenant_id: 'default' });
    expect((await tenants.list()).map((t) => t.id)).toEqual(['default']);
    expect((await users.list()).map((u) => u.username)).toEqual(['admin']);
    expect(await audit.list({})).toHaveLength(1);
    await cleanup();
  });

  it('the DynamoDB audit log reads only the configured recent months', async () => {
    const { tableName, cleanup } = await freshTable();
    const now = Date.UTC(2026, 4, 15);
    const audit = new DynamoAuditLog(doc, { tableName, now: () => now });
    for (const [id, at] of [
      ['may', '2026-05-01T00:00:00.000Z'],
      ['april', '2026-04-30T23:59:59.999Z'],
      ['march', '2026-03-31T00:00:00.000Z'],
    ] as const) {
      await audit.append({ id, at, actor: 'admin', action: 'x' });
    }
    expect((await audit.list({})).map((e) => e.id)).toEqual(['may', 'april']);
    const longer = new DynamoAuditLog(doc, { tableName, now: () => now, months: 3 });
    expect((await longer.list({})).map((e) => e.id)).toEqual(['may', 'april', 'march']);
    await cleanup();
  });

  it('the memory tenant repository starts with the default tenant and key', async () => {
    const repo = new MemoryTenantRepository();
    expect(await repo.findByKeyHash(hashApiKey(DEFAULT_TENANT_KEY))).toEqual(DEFAULT_TENANT);
    const [record] = await repo.list();
    expect(record).toMatchObject({ id: 'default', version: 1, keys: [{ hash: hashApiKey(DEFAULT_TENANT_KEY), prefix: 'gw-default' }] });
  });

  it('memory put() replaces a tenant with exactly the one key given', async () => {
    const repo = new MemoryTenantRepository([]);
    repo.put('gw-one', { ...DEFAULT_TENANT, id: 't' });
    repo.put('gw-two', { ...DEFAULT_TENANT, id: 't', name: 'renamed' });
    expect(await repo.findByKeyHash(hashApiKey('gw-one'))).toBeNull();
    expect(await repo.findByKeyHash(hashApiKey('gw-two'))).toMatchObject({ id: 't', name: 'renamed' });
    expect((await repo.get('t'))?.version).toBe(2);
    // The same key put for another tenant moves to it.
    repo.put('gw-two', { ...DEFAULT_TENANT, id: 'u' });
    expect((await repo.findByKeyHash(hashApiKey('gw-two')))?.id).toBe('u');
    expect((await repo.get('t'))?.keys).toEqual([]);
  });

  it('the memory tenant repository honours an injected clock for expiry', async () => {
    let now = Date.UTC(2026, 0, 1);
    const repo = new MemoryTenantRepository([], { now: () => now });
    await repo.create({
      ...DEFAULT_TENANT,
      created_at: 'x',
      updated_at: 'x',
      keys: [{ hash: hashApiKey('gw-k'), prefix: 'gw-k', created_at: 'x', expires_at: '2026-01-02T00:00:00.000Z' }],
      version: 1,
    });
    expect((await repo.findByKeyHash(hashApiKey('gw-k')))?.id).toBe('default');
    now = Date.UTC(2026, 0, 2);
    expect(await repo.findByKeyHash(hashApiKey('gw-k'))).toBeNull();
  });

  it('the memory audit log keeps only the newest entries', async () => {
    const log = new MemoryAuditLog(3);
    for (let i = 0; i < 5; i++) await log.append({ id: `e${i}`, at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(), actor: 'a', action: 'x' });
    expect((await log.list({})).map((e) => e.id)).toEqual(['e4', 'e3', 'e2']);
  });
});
