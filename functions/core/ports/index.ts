// The core's ports: every store a pipeline step or the admin API depends on is one of these
// interfaces, never a concrete backend. Memory implementations live in functions/adapters/memory;
// DynamoDB, Redis and SQS implement the same interfaces, each checked by one contract suite
// (test/contract). A port is async: a memory store answers with a resolved promise.
export type { Tenant, TenantStore, ApiKeyRecord, TenantRecord, TenantRepository } from './tenants';
export { StoreConflictError } from './tenants';
export type { AdminRole, AdminUser, AdminUserRepository, AuditEntry, AuditLog } from './admin';
export type { RateLimitDecision, RateLimiter } from './limits';
export type { CachedCompletion, ResponseCache } from './cache';
export type { BreakerPhase, BreakerState, BreakerStateStore } from './breaker';
export type { UsageEvent, UsageSink, UsageTotals, UsageReader, UsageApplied, UsageStore } from './usage';
export type { Hold, BudgetChange, Reservation, BudgetLedger } from './budget';
export { LedgerCallNotSent } from './budget';
export type { BudgetAlert, AlertClaims, AlertPublisher } from './alerts';
