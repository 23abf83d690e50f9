// Runs every durable store contract on PostgreSQL (a private cluster from Debian's packages,
// test/helpers/postgres.ts): tenants, admin users, audit, usage totals, the budget ledger, alert
// claims and stored responses, through the real pg driver with the schema the migrations make.
// "peers" are pools of their own on the same database, as separate replicas have.
import { PgAdminUserRepository } from '../../functions/adapters/postgres/admin-users';
import { PgAlertClaims } from '../../functions/adapters/postgres/alert-claims';
import { PgAuditLog } from '../../functions/adapters/postgres/audit-log';
import { PgBudgetLedger } from '../../functions/adapters/postgres/budget-ledger';
import { prune } from '../../functions/adapters/postgres/maintenance';
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
import { usageEvent, usageStoreContract } from './usage-store.contract';

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

const DAY_MS = 86_400_000;

describe('PostgreSQL beyond the contracts', () => {
  it("stamps an alert claim with the gateway's clock and prunes it 45 days after that clock", async () => {
    const claimedAt = Date.parse('2031-03-05T10:20:30.456Z');
    const claims = new PgAlertClaims(pool(), { now: () => claimedAt });
    const tenant = `pg-claims-${process.pid}`;
    expect(await claims.claim(tenant, '2031-03', 80)).toBe(true);
    expect(await claims.list(tenant, 10)).toEqual([{ period: '2031-03', threshold_pct: 80, claimed_at: '2031-03-05T10:20:30.456Z' }]);
    await prune(pool(), claimedAt + 44 * DAY_MS);
    expect(await claims.list(tenant, 10)).toHaveLength(1);
    await prune(pool(), claimedAt + 46 * DAY_MS);
    expect(await claims.list(tenant, 10)).toEqual([]);
  });

  it('a database from before error counts keeps its usage, read with no errors, and counts errors from then on', async () => {
    const db = PgDatabase.open(settings(await postgres.server.freshDatabase('upgrade')));
    pools.push(db);
    const [initial] = readMigrations(findMigrationsDir());
    if (!initial) throw new Error('no migrations');
    await migrate(db, [initial]);
    await db.query(
      {
        text: `INSERT INTO usage_daily (tenant_id, day, model, requests, prompt_tokens, completion_tokens, cached_tokens, cost_usd, cache_hits)
VALUES ($1, $2, $3, 3, 30, 15, 0, 0.3, 1)`,
      },
      ['old', '2030-01-15', 'gpt-4o'],
    );
    await migrate(db, readMigrations(findMigrationsDir()));
    const store = new PgUsageStore(db);
    await store.apply(usageEvent({ tenant_id: 'old', status: 503, cost_usd: 0.1, timestamp: '2030-01-16T00:00:00.000Z' }), async () => {});
    expect(await store.totalsByDay('old', '2030-01-01', '2030-01-31')).toEqual({
      '2030-01-15': { request_count: 3, prompt_tokens: 30, completion_tokens: 15, cost_usd: 0.3, cache_hits: 1, errors: 0 },
      '2030-01-16': expect.objectContaining({ request_count: 1, errors: 1, cost_usd: 0.1 }),
    });
  });
});
