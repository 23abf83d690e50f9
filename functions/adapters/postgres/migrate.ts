// Schema migrations: plain numbered SQL files (`NNN_name.sql`, forward-only) in migrations/ beside
// this module, applied in order, each in its own transaction with its row in schema_migrations.
// The whole run holds a session advisory lock, so replicas starting together apply each file
// once: the others wait, then find nothing left to do. The files are read from the package root
// at run time (the bundle dist/local.mjs does not embed them): found from the running script's
// path, then the working directory.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { PgDatabase } from './pool';

/** The folder of the SQL files, relative to the package root. */
export const MIGRATIONS_PATH = join('functions', 'adapters', 'postgres', 'migrations');

/** Any fixed number: every gateway process takes the same lock. */
const MIGRATION_LOCK = 7_314_262_019;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export interface MigrationRun {
  /** Versions this call applied (none when another replica had applied them). */
  applied: number[];
  /** The schema's version afterwards. */
  version: number;
}

/** The migrations folder under the first of `starts` (or their parents) that holds one. */
export function findMigrationsDir(starts: readonly string[] = [dirname(process.argv[1] ?? '.'), process.cwd()]): string {
  for (const start of starts) {
    for (let dir = resolve(start); ; dir = dirname(dir)) {
      const candidate = join(dir, MIGRATIONS_PATH);
      if (existsSync(candidate)) return candidate;
      if (dirname(dir) === dir) break;
    }
  }
  throw new Error(`PostgreSQL migrations not found: no ${MIGRATIONS_PATH} above ${starts.join(' or ')}; run the gateway from its package`);
}

export function readMigrations(dir: string): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((file) => {
      const match = /^(\d+)_([A-Za-z0-9_-]+)\.sql$/.exec(file);
      if (!match) throw new Error(`migration file ${file} is not named NNN_name.sql`);
      return { version: Number(match[1]), name: match[2] as string, sql: readFileSync(join(dir, file), 'utf8') };
    });
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migrations must be numbered 1, 2, 3… without gaps; found ${m.version} at position ${i + 1}`);
  });
  return migrations;
}

const CREATE_VERSIONS = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

/** Applies the pending migrations under the advisory lock. */
export async function migrate(db: PgDatabase, migrations: readonly Migration[]): Promise<MigrationRun> {
  const { client: session, release } = await db.session();
  let broken: unknown;
  try {
    await session.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await session.query(CREATE_VERSIONS);
      const done = new Set((await session.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
      const applied: number[] = [];
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        await session.query('BEGIN');
        try {
          await session.query(m.sql);
          await session.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
          await session.query('COMMIT');
        } catch (err) {
          await session.query('ROLLBACK').catch(() => undefined);
          throw new Error(`migration ${m.version}_${m.name} failed: ${err instanceof Error ? err.message : String(err)}`);
        }
        applied.push(m.version);
      }
      return { applied, version: Math.max(0, ...done, ...applied) };
    } finally {
      await session.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } catch (err) {
    broken = err;
    throw err;
  } finally {
    // A connection whose migration failed may be in any state: it is dropped, not reused.
    release(broken === undefined ? undefined : new Error('migration failed'));
  }
}

/** The schema's version (0 for a database never migrated). */
export async function schemaVersion(db: PgDatabase): Promise<number> {
  const [exists] = await db.query<{ present: boolean }>({ text: "SELECT to_regclass('schema_migrations') IS NOT NULL AS present" });
  if (!exists?.present) return 0;
  const [row] = await db.query<{ version: number | null }>({ text: 'SELECT max(version) AS version FROM schema_migrations' });
  return row?.version ?? 0;
}
