// The durable stores on one database (PostgreSQL, DATABASE_URL), as the compositions receive
// them. The database adapters are not imported here or by any composition: whoever may use them
// (the local server) passes an opener, so a Lambda bundle never holds the driver.
import type { DatabaseSettings } from '../config';
import type { Logger } from '../core/logger';
import type {
  AdminUserRepository,
  AlertClaims,
  AuditLog,
  BudgetLedger,
  ResponseStore,
  TenantRepository,
  TenantStore,
  UsageReader,
  UsageStore,
} from '../core/ports';

export interface DatabaseStores {
  tenants: TenantRepository;
  /** The request path's key lookup, bounded by STORE_TIMEOUT. */
  lookup: TenantStore;
  users: AdminUserRepository;
  audit: AuditLog;
  /** Bounded by STORE_TIMEOUT (the request path reserves and settles). */
  budgetLedger: BudgetLedger;
  /** Bounded by STORE_TIMEOUT. */
  responses: ResponseStore;
  /** Applying usage: off the request path, patient. */
  usage: UsageStore;
  /** GET /v1/usage: bounded by STORE_TIMEOUT. */
  usageReader: UsageReader;
  claims: AlertClaims;
  /** A trivial query: the guard's probe while the database is marked down. */
  ping(): Promise<unknown>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  now: () => number;
  logger: Logger;
  /** STORE_TIMEOUT: the deadline of each request-path call. */
  timeoutMs: number;
  /** Where the migrations are; found from the package root when absent. */
  migrationsDir?: string;
}

export type OpenDatabase = (settings: DatabaseSettings, opts: OpenDatabaseOptions) => Promise<DatabaseStores>;
