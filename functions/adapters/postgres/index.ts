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
import { setTimeout as wait } from 'node:timers/promises';
import { PgDatabase, QueryNotSent } from './pool';
import { PgResponseStore } from './response-store';
import { PgTenantRepository } from './tenant-repository';
import { PgUsageStore } from './usage-store';

/** A database still starting beside the gateway (compose, Kubernetes) is waited for this long. */
const START_WAIT_MS = 30_000;

/** Runs `attempt` until it reaches the database, for up to START_WAIT_MS; other failures at once. */
async function onceReachable<T>(attempt: () => Promise<T>, logger: OpenDatabaseOptions['logger']): Promise<T> {
  const deadline = Date.now() + START_WAIT_MS;
  for (let delayMs = 250; ; delayMs = Math.min(delayMs * 2, 2000)) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof QueryNotSent) || Date.now() + delayMs > deadline) throw err;
      logger.warn('database not reachable yet; waiting', { error: err.message, retry_ms: delayMs });
      await wait(delayMs);
    }
  }
}

/**
 * Opens the pool, waits for the database if it is still starting, brings the schema up to date
 * (or, with DATABASE_MIGRATE=false, checks that it is) and builds the stores: the request path's on a view bounded by STORE_TIMEOUT, the rest on
 * the server's statement_timeout.
 */
export async function openPostgresStores(settings: DatabaseSettings, opts: OpenDatabaseOptions): Promise<DatabaseStores> {
  const db = PgDatabase.open(settings);
  try {
    const migrations = readMigrations(opts.migrationsDir ?? findMigrationsDir());
    const latest = migrations.length;
    if (settings.migrateAtStart) {
      const run = await onceReachable(() => migrate(db, migrations), opts.logger);
      if (run.applied.length > 0) opts.logger.info('database migrated', { applied: run.applied, version: run.version });
    } else {
      const version = await onceReachable(() => schemaVersion(db), opts.logger);
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
    claims: new PgAlertClaims(db, { now: opts.now }),
    ping: () => requestPath.query({ name: 'ping', text: 'SELECT 1' }),
    async close() {
      stopPruning();
      await db.close();
    },
  };
}
