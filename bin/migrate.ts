// `npm run migrate`: applies the pending PostgreSQL migrations to DATABASE_URL and exits, for
// teams that migrate as a separate deploy step (then set DATABASE_MIGRATE=false on the gateways,
// which only check the schema's version at start). Safe to run while gateways start: the same
// advisory lock serialises every run.
import { ConfigError } from '../functions/config';
import { loadStoreSettings } from '../functions/config/stores';
import { findMigrationsDir, migrate, readMigrations } from '../functions/adapters/postgres/migrate';
import { PgDatabase } from '../functions/adapters/postgres/pool';

async function main(): Promise<void> {
  const { database } = loadStoreSettings(process.env);
  if (!database) throw new ConfigError('DATABASE_URL is not set: it names the database to migrate (postgres://…)');
  const db = PgDatabase.open(database);
  try {
    const run = await migrate(db, readMigrations(findMigrationsDir()));
    process.stdout.write(
      run.applied.length > 0 ? `migrated: applied ${run.applied.join(', ')}; schema version ${run.version}\n` : `up to date: schema version ${run.version}\n`,
    );
  } finally {
    await db.close();
  }
}

main().catch((err: unknown) => {
  const message = err instanceof ConfigError ? `configuration error: ${err.message}` : err instanceof Error ? err.message : String(err);
  process.stderr.write(`ai-gateway migrate: ${message}\n`);
  process.exit(1);
});
