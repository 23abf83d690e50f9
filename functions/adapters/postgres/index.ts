// functions/adapters/postgres — every durable store on PostgreSQL (DATABASE_URL): tenants and
// keys, admin users, the audit trail, usage totals, the budget ledger, alert claims and stored
// responses, over one pool per process (pool.ts), with the schema migrated at start (migrate.ts).
// Only the local server loads this folder (functions/local/app.ts passes openPostgresStores to
// the composition), so neither it nor the pg driver is in any Lambda bundle.
import type { DatabaseSettings } from '../../config';
import type { DatabaseStores, OpenDatabaseOptions } from '../database';
import { PgAdminUserRepository } from './admin-users';
import { PgAlertClaims } from './alert-claims';
import { PgAuditLog } from './audit-log';
import { PgBudgetLedger } from './budget-ledger';
import { startPruning } from './maintenance';
import { findMigrationsDir, migrate, readMigrations, schemaVersion } from './migrate';
import { PgDatabase } from './pool';
import { PgResponseStore } from './response-store';
import { PgTenantRepository } from './tenant-repository';
import { PgUsageStore } from './usage-store';

/**
 * Opens the pool, brings the schema up to date (or, with DATABASE_MIGRATE=false, checks that it
 * is) and builds the stores: the request path's on a view bounded by STORE_TIMEOUT, the rest on
 * the server's statement_timeout.
 */
export async function openPostgresStores(settings: DatabaseSettings, opts: OpenDatabaseOptions): Promise<DatabaseStores> {
  const db = PgDatabase.open(settings);
  try {
    const migrations = readMigrations(opts.migrationsDir ?? findMigrationsDir());
    const latest = migrations.length;
    if (settings.migrateAtStart) {
      const run = await migrate(db, migrations);
      if (run.applied.length > 0) opts.logger.info('database migrated', { applied: run.applied, version: run.version });
    } else {
      const version = await schemaVersion(db);
      if (version < latest) throw new Error(`the database schema is at version ${version}, this gateway needs ${latest}: run npm run migrate`);
    }
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  const requestPath = db.withDeadline(opts.timeoutMs);
  const stopPruning = startPruning(db, opts.now, (err) => opts.logger.warn('database pruning failed', { error: String(err) }));
  const usage = new PgUsageStore(db);
  return {
    tenants: new PgTenantRepository(db, { now: opts.now }),
    lookup: new PgTenantRepository(requestPath, { now: opts.now }),
    users: new PgAdminUserRepository(db),
    audit: new PgAuditLog(db),
    budgetLedger: new PgBudgetLedger(requestPath),
    responses: new PgResponseStore(requestPath),
    usage,
    usageReader: new PgUsageStore(requestPath),
    claims: new PgAlertClaims(db),
    ping: () => requestPath.query({ name: 'ping', text: 'SELECT 1' }),
    async close() {
      stopPruning();
      await db.close();
    },
  };
}
