-- Error counts in the usage totals, and the reads of the admin console.

-- Requests answered 400 or above, per tenant, day and model. Rows counted before this column
-- existed had no errors recorded: they read as 0.
ALTER TABLE usage_daily ADD COLUMN errors bigint NOT NULL DEFAULT 0;

-- The audit trail filtered by who or what, newest first.
CREATE INDEX audit_log_actor_newest ON audit_log (actor, at DESC, id DESC);
CREATE INDEX audit_log_action_newest ON audit_log (action, at DESC, id DESC);

-- A tenant's alert claims are listed newest period first through the primary key
-- (tenant_id, period, threshold_pct): no index of their own.
