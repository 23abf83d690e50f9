// functions/core/ports — the interfaces every store implements: tenants, admin users and audit,
// rate limits, response cache, breaker state, cooldowns, budget ledger, usage, alerts, stored responses.
// Pipeline steps and the admin API depend on these, never on a backend. Memory, DynamoDB, Redis
// and PostgreSQL (and SQS for usage events) implement them in functions/adapters, each checked by one
// contract suite (test/contract). A port is async: a memory store answers with a resolved promise.
export type { Tenant, TenantStore, ApiKeyRecord, TenantRecord, TenantRepository } from './tenants';
export { StoreConflictError } from './tenants';
export type { AdminRole, AdminUser, AdminUserRepository, AuditEntry, AuditLog, AuditQuery } from './admin';
export { auditMatches } from './admin';
export type { RateLimitDecision, RateLimiter } from './limits';
export type { CachedCompletion, ResponseCache } from './cache';
export type { BreakerPhase, BreakerState, BreakerStateStore } from './breaker';
export type { Cooldown, CooldownStore } from './cooldowns';
export type { UsageEvent, UsageSink, UsageTotals, UsageReader, UsageApplied, UsageStore } from './usage';
export type { Hold, BudgetChange, Reservation, BudgetLedger } from './budget';
export { LedgerCallNotSent } from './budget';
export type { BudgetAlert, AlertClaimRecord, AlertClaims, AlertPublisher } from './alerts';
export type { StoredResponse, ResponseStore } from './responses';
export { StoredResponseTooLarge, storedResponseBytes, storedResponseKey } from './responses';
