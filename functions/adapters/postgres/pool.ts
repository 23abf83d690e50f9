// The PostgreSQL connection pool of a process (pg.Pool), shared by every store on it, and the one
// way those stores talk to it: parameterised queries (named prepared statements on the hot paths)
// with a deadline per call. The request path's stores get a view whose deadline is STORE_TIMEOUT,
// covering the wait for a connection and the query both; everything else the server's
// statement_timeout. TLS follows the URL's `sslmode` (pg reads it from the connection string).
import { DatabaseError, Pool, type PoolClient, type QueryConfig, type QueryResultRow } from 'pg';
import type { DatabaseSettings } from '../../config';

/** A call that never reached the server: no connection could be had within its deadline. */
export class QueryNotSent extends Error {
  constructor(reason: string) {
    super(`PostgreSQL: no connection (${reason})`);
    this.name = 'QueryNotSent';
  }
}

/** One statement: `name` makes it a prepared statement, parsed once per connection. */
export interface Statement {
  name?: string;
  text: string;
}

export interface Queryable {
  query<R extends QueryResultRow>(statement: Statement, values?: readonly unknown[]): Promise<R[]>;
}

/** SQLSTATE of a unique violation: a create that found the row already there. */
export const UNIQUE_VIOLATION = '23505';

export function isUniqueViolation(err: unknown): boolean {
  return err instanceof DatabaseError && err.code === UNIQUE_VIOLATION;
}

/**
 * A connection stays usable after an error the server answered (a constraint, a raised
 * exception); after a timeout or a broken socket it is dropped, not handed to the next caller.
 */
function keepsConnection(err: unknown): boolean {
  return err instanceof DatabaseError && err.code !== '57014' && !err.code?.startsWith('57P') && !err.code?.startsWith('08');
}

/**
 * The first failure each connection reported. pg emits a connection's failure (a server shutting
 * down) as an 'error' event, even while a query runs on it, and pg-pool listens only while the
 * connection is idle. So every connection is listened to from the moment the pool makes it: a
 * checked-out connection too, and one handed over from inside the very read that also brought its
 * FATAL (pg does that for a new connection), before its caller could listen.
 */
const connectionFailures = new WeakMap<PoolClient, Error>();

/** A connection taken from the pool: its failure reaches the query alone, and it goes back destroyed. */
export interface Lease {
  client: PoolClient;
  /** Back to the pool; dropped instead if it failed or `err` says it cannot be trusted. */
  release(err?: unknown): void;
}

export class PgDatabase implements Queryable {
  private constructor(
    private readonly pool: Pool,
    /** The deadline of each call; undefined: the server's statement_timeout alone bounds it. */
    private readonly deadlineMs: number | undefined,
  ) {}

  static open(settings: DatabaseSettings): PgDatabase {
    const pool = new Pool({
      connectionString: settings.url,
      max: settings.poolMax,
      connectionTimeoutMillis: settings.connectTimeoutMs,
      idleTimeoutMillis: settings.idleTimeoutMs,
      statement_timeout: settings.statementTimeoutMs,
      // A transaction left open by a crashed caller must not hold its locks for long.
      idle_in_transaction_session_timeout: Math.max(settings.statementTimeoutMs, 1000),
      application_name: 'ai-gateway',
    });
    // An idle connection the server dropped (a restart) is removed by the pool; the error must
    // not become an uncaught exception.
    pool.on('error', () => undefined);
    pool.on('connect', (client) => {
      client.on('error', (err) => {
        if (!connectionFailures.has(client)) connectionFailures.set(client, err);
      });
    });
    return new PgDatabase(pool, undefined);
  }

  /** The same pool, each call bounded by `deadlineMs` (the request path's STORE_TIMEOUT). */
  withDeadline(deadlineMs: number): PgDatabase {
    return new PgDatabase(this.pool, deadlineMs);
  }

  async query<R extends QueryResultRow>(statement: Statement, values: readonly unknown[] = []): Promise<R[]> {
    const started = Date.now();
    const { client, release } = await this.lease();
    const remaining = this.deadlineMs === undefined ? undefined : Math.max(1, this.deadlineMs - (Date.now() - started));
    try {
      // pg honours a per-query query_timeout that its typings do not list.
      const config: QueryConfig & { query_timeout?: number } = {
        name: statement.name,
        text: statement.text,
        values: values as unknown[],
        query_timeout: remaining,
      };
      const result = await client.query<R>(config);
      release();
      return result.rows;
    } catch (err) {
      release(err);
      throw err;
    }
  }

  /**
   * Runs `work` in one transaction on one connection (commit when it resolves, rollback when it
   * throws). Off the request path only: admin writes.
   */
  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    const { client, release } = await this.lease();
    const tx: Queryable = {
      query: async <R extends QueryResultRow>(statement: Statement, values: readonly unknown[] = []) =>
        (await client.query<R>({ name: statement.name, text: statement.text, values: values as unknown[] })).rows,
    };
    try {
      await client.query('BEGIN');
      const out = await work(tx);
      await client.query('COMMIT');
      release();
      return out;
    } catch (err) {
      const rolledBack = await client.query('ROLLBACK').then(
        () => true,
        () => false,
      );
      release(rolledBack ? err : new Error('the rollback failed'));
      throw err;
    }
  }

  /** A connection of its own, for what holds a session (the migrations' advisory lock). */
  async session(): Promise<Lease> {
    return this.lease();
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async lease(): Promise<Lease> {
    const client = await this.connect();
    return {
      client,
      release: (err) => {
        client.release(connectionFailures.get(client) ?? (err !== undefined && !keepsConnection(err) ? (err as Error) : undefined));
      },
    };
  }

  private async connect(): Promise<PoolClient> {
    const pending = this.pool.connect();
    if (this.deadlineMs === undefined) return pending.catch((err: unknown) => Promise.reject(new QueryNotSent(reason(err))));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new QueryNotSent(`none free within ${this.deadlineMs} ms`)), this.deadlineMs);
    });
    try {
      return await Promise.race([pending.catch((err: unknown) => Promise.reject(new QueryNotSent(reason(err)))), deadline]);
    } catch (err) {
      // A connection that arrives after the deadline goes back to the pool unused.
      pending.then(
        (late) => late.release(),
        () => undefined,
      );
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
