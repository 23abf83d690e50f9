// Runs every durable store contract on PostgreSQL (a private cluster from Debian's packages,
// test/helpers/postgres.ts): tenants, admin users, audit, usage totals, the budget ledger, alert
// claims and stored responses, through the real pg driver with the schema the migrations make.
// "peers" are pools of their own on the same database, as separate replicas have.
import { PgAdminUserRepository } from '../../functions/adapters/postgres/admin-users';
import { PgAlertClaims } from '../../functions/adapters/postgres/alert-claims';
import { PgAuditLog } from '../../functions/adapters/postgres/audit-log';
import { PgBudgetLedger } from '../../functions/adapters/postgres/budget-ledger';
import { findMigrationsDir, migrate, readMigrations } from '../../functions/adapters/postgres/migrate';
import { PgDatabase } from '../../functions/adapters/postgres/pool';
import { PgResponseStore } from '../../functions/adapters/postgres/response-store';
import { PgTenantRepository } from '../../functions/adapters/postgres/tenant-repository';
import { PgUsageStore } from '../../functions/adapters/postgres/usage-store';
import type { DatabaseSettings } from '../../functions/config';
import { usePostgres } from '../helpers/postgres';
import { adminUserRepositoryContract } from './admin-user-repository.contract';
import { alertClaimsContract } from './alert-claims.contract';
import { auditLogContract } from './audit-log.contract';
import { budgetLedgerContract } from './budget-ledger.contract';
import { responseStoreContract } from './response-store.contract';
import { tenantRepositoryContract } from './tenant-repository.contract';
import { usageStoreContract } from './usage-store.contract';

const postgres = usePostgres();
const pools: PgDatabase[] = [];
let databaseUrl = '';
let shared: PgDatabase | undefined;

const settings = (url: string): DatabaseSettings => ({
  url,
  poolMax: 8,
  connectTimeoutMs: 5000,
  statementTimeoutMs: 10_000,
  idleTimeoutMs: 10_000,
  migrateAtStart: true,
});

function open(): PgDatabase {
  const db = PgDatabase.open(settings(databaseUrl));
  pools.push(db);
  return db;
}

beforeAll(async () => {
  databaseUrl = await postgres.server.freshDatabase('contracts');
  shared = open();
  await migrate(shared, readMigrations(findMigrationsDir()));
});

afterAll(async () => {
  for (const p of pools) await p.close();
});

function pool(): PgDatabase {
  if (!shared) throw new Error('the database is made before the tests run');
  return shared;
}

/** `n` pools of their own, as `n` replicas have. */
const peerPools = async (n: number): Promise<PgDatabase[]> => Array.from({ length: n }, open);

/** The admin tables emptied: the tenant, user and audit contracts list everything there is. */
async function emptied(): Promise<PgDatabase> {
  const db = pool();
  await db.query({ text: 'TRUNCATE tenants, tenant_keys, admin_users, audit_log' });
  return db;
}

const noCleanup = async (): Promise<void> => {};

tenantRepositoryContract('postgres', async () => ({ repo: new PgTenantRepository(await emptied()), cleanup: noCleanup }));
adminUserRepositoryContract('postgres', async () => ({ repo: new PgAdminUserRepository(await emptied()), cleanup: noCleanup }));
auditLogContract('postgres', async () => ({ repo: new PgAuditLog(await emptied()), cleanup: noCleanup }));

usageStoreContract('postgres', async () => ({
  repo: new PgUsageStore(pool()),
  cleanup: noCleanup,
  peers: async (n) => (await peerPools(n)).map((db) => new PgUsageStore(db)),
}));
budgetLedgerContract('postgres', async () => ({
  repo: new PgBudgetLedger(pool()),
  cleanup: noCleanup,
  peers: async (n) => (await peerPools(n)).map((db) => new PgBudgetLedger(db)),
}));
alertClaimsContract('postgres', async () => ({
  repo: new PgAlertClaims(pool()),
  cleanup: noCleanup,
  peers: async (n) => (await peerPools(n)).map((db) => new PgAlertClaims(db)),
}));
responseStoreContract('postgres', async () => {
  const db = pool();
  await db.query({ text: 'TRUNCATE stored_responses' });
  return { repo: new PgResponseStore(db, { maxRecordBytes: 1024 * 1024 }), cleanup: noCleanup };
});
