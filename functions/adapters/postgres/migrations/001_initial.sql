-- The gateway's durable state in PostgreSQL. Forward-only: a change is a new numbered file.
-- Text that is ordered or compared (ids, ISO times, periods) uses the "C" collation, so every
-- database orders it as the other backends do, byte by byte.

-- Tenants: the whole record as JSON (what the admin API reads and writes back, with `version`
-- guarding updates), and one row per API key hash: the hot path's lookup and the uniqueness of keys.
CREATE TABLE tenants (
  id text COLLATE "C" PRIMARY KEY,
  version integer NOT NULL,
  record jsonb NOT NULL
);

CREATE TABLE tenant_keys (
  hash text COLLATE "C" PRIMARY KEY,
  tenant_id text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE
);
CREATE INDEX tenant_keys_tenant ON tenant_keys (tenant_id);

CREATE TABLE admin_users (
  username text COLLATE "C" PRIMARY KEY,
  role text NOT NULL,
  password_hash text NOT NULL,
  created_at text NOT NULL,
  updated_at text NOT NULL
);

CREATE TABLE audit_log (
  seq bigserial PRIMARY KEY,
  id text COLLATE "C" NOT NULL,
  at text COLLATE "C" NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  tenant_id text COLLATE "C",
  details jsonb
);
CREATE INDEX audit_log_newest ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_tenant_newest ON audit_log (tenant_id, at DESC, id DESC);

-- Usage: one marker per counted request id (idempotency), totals per tenant, day and model, and
-- the month's cost per tenant (what alerts measure). Markers are pruned after 15 days.
CREATE TABLE usage_requests (
  request_id text COLLATE "C" PRIMARY KEY,
  counted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX usage_requests_age ON usage_requests (counted_at);

CREATE TABLE usage_daily (
  tenant_id text COLLATE "C" NOT NULL,
  day date NOT NULL,
  model text COLLATE "C" NOT NULL,
  requests bigint NOT NULL,
  prompt_tokens bigint NOT NULL,
  completion_tokens bigint NOT NULL,
  cached_tokens bigint NOT NULL,
  cost_usd numeric(30, 10) NOT NULL,
  cache_hits bigint NOT NULL,
  PRIMARY KEY (tenant_id, day, model)
);

CREATE TABLE usage_monthly (
  tenant_id text COLLATE "C" NOT NULL,
  month text COLLATE "C" NOT NULL,
  requests bigint NOT NULL,
  cost_usd numeric(30, 10) NOT NULL,
  PRIMARY KEY (tenant_id, month)
);

CREATE TABLE alert_claims (
  tenant_id text COLLATE "C" NOT NULL,
  period text COLLATE "C" NOT NULL,
  threshold_pct double precision NOT NULL,
  claimed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, period, threshold_pct)
);

-- Budget accounts: outstanding (spent plus live reservations) and spent per tenant and period,
-- and one row per named reservation (amount NULL: fenced, it can never be made).
CREATE TABLE budget_accounts (
  tenant_id text COLLATE "C" NOT NULL,
  period text COLLATE "C" NOT NULL,
  outstanding numeric(30, 10) NOT NULL DEFAULT 0,
  spent numeric(30, 10) NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, period)
);

CREATE TABLE budget_holds (
  tenant_id text COLLATE "C" NOT NULL,
  period text COLLATE "C" NOT NULL,
  hold_id text COLLATE "C" NOT NULL,
  amount numeric(30, 10),
  PRIMARY KEY (tenant_id, period, hold_id),
  FOREIGN KEY (tenant_id, period) REFERENCES budget_accounts (tenant_id, period) ON DELETE CASCADE
);

-- One change of an account, decided as functions/core/budget-change.ts decides it, in one call:
-- the account row is locked first, so concurrent changes of one account run one after another
-- and reservations never pass the budget. status: 1 applied, 2 applied before (a repeated call),
-- 0 refused. A NULL from_amount is an unconfirmed reservation; a NULL limit is no budget check.
CREATE FUNCTION budget_change(
  p_tenant text, p_period text,
  p_from_id text, p_from_amount numeric,
  p_to_id text, p_to_amount numeric,
  p_spent numeric, p_limit numeric, p_force boolean
) RETURNS TABLE (status integer, spent numeric) LANGUAGE plpgsql AS $$
DECLARE
  v_outstanding numeric;
  v_spent numeric;
  v_held numeric;
  v_release numeric := 0;
  v_add numeric := 0;
  v_base numeric;
BEGIN
  INSERT INTO budget_accounts (tenant_id, period) VALUES (p_tenant, p_period) ON CONFLICT DO NOTHING;
  SELECT a.outstanding, a.spent INTO v_outstanding, v_spent
    FROM budget_accounts a WHERE a.tenant_id = p_tenant AND a.period = p_period FOR UPDATE;
  IF p_from_id IS NOT NULL THEN
    SELECT h.amount INTO v_held FROM budget_holds h WHERE h.tenant_id = p_tenant AND h.period = p_period AND h.hold_id = p_from_id;
    IF p_from_amount IS NULL THEN
      IF FOUND AND v_held IS NULL THEN RETURN QUERY SELECT 2, v_spent; RETURN; END IF;
      IF FOUND THEN v_release := v_held; END IF;
    ELSE
      IF NOT FOUND THEN RETURN QUERY SELECT 2, v_spent; RETURN; END IF;
      IF v_held IS DISTINCT FROM p_from_amount THEN
        RAISE EXCEPTION 'budget reservation % holds %, not %', p_from_id, coalesce(v_held::text, 'void'), p_from_amount;
      END IF;
      v_release := v_held;
    END IF;
  END IF;
  IF p_to_id IS NOT NULL THEN
    SELECT h.amount INTO v_held FROM budget_holds h WHERE h.tenant_id = p_tenant AND h.period = p_period AND h.hold_id = p_to_id;
    IF FOUND AND v_held IS NULL THEN RETURN QUERY SELECT 0, v_spent; RETURN; END IF;
    IF FOUND THEN RETURN QUERY SELECT 2, v_spent; RETURN; END IF;
    v_add := p_to_amount;
  END IF;
  IF p_limit IS NOT NULL AND NOT p_force THEN
    v_base := v_outstanding - v_release + p_spent;
    IF v_base >= p_limit OR v_base + v_add > p_limit THEN RETURN QUERY SELECT 0, v_spent; RETURN; END IF;
  END IF;
  IF p_from_id IS NOT NULL THEN
    IF p_from_amount IS NULL THEN
      -- Unconfirmed: live or never made, its id stays fenced, so a repeat of this call and a
      -- reserve still on its way both find it done.
      INSERT INTO budget_holds (tenant_id, period, hold_id, amount) VALUES (p_tenant, p_period, p_from_id, NULL)
        ON CONFLICT (tenant_id, period, hold_id) DO UPDATE SET amount = NULL;
    ELSE
      DELETE FROM budget_holds h WHERE h.tenant_id = p_tenant AND h.period = p_period AND h.hold_id = p_from_id;
    END IF;
  END IF;
  IF p_to_id IS NOT NULL THEN
    INSERT INTO budget_holds (tenant_id, period, hold_id, amount) VALUES (p_tenant, p_period, p_to_id, v_add);
  END IF;
  UPDATE budget_accounts a
    SET outstanding = a.outstanding + p_spent + v_add - v_release, spent = a.spent + p_spent, updated_at = now()
    WHERE a.tenant_id = p_tenant AND a.period = p_period
    RETURNING a.spent INTO v_spent;
  RETURN QUERY SELECT 1, v_spent;
END
$$;

-- Resolves a reservation whose reserve call may still be on its way: its amount if it was made
-- (live), else NULL, having fenced the id so it never can be made.
CREATE FUNCTION budget_fence(p_tenant text, p_period text, p_id text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE
  v_held numeric;
BEGIN
  INSERT INTO budget_accounts (tenant_id, period) VALUES (p_tenant, p_period) ON CONFLICT DO NOTHING;
  PERFORM 1 FROM budget_accounts a WHERE a.tenant_id = p_tenant AND a.period = p_period FOR UPDATE;
  SELECT h.amount INTO v_held FROM budget_holds h WHERE h.tenant_id = p_tenant AND h.period = p_period AND h.hold_id = p_id;
  IF FOUND THEN RETURN v_held; END IF;
  INSERT INTO budget_holds (tenant_id, period, hold_id, amount) VALUES (p_tenant, p_period, p_id, NULL);
  RETURN NULL;
END
$$;

-- Stored responses of the Responses API, addressed by tenant and id together; the two JSON texts
-- are kept verbatim. Expired rows are never returned and are pruned in the background.
CREATE TABLE stored_responses (
  tenant_id text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  created_at bigint NOT NULL,
  response_json text NOT NULL,
  messages_json text NOT NULL,
  expires_at_ms bigint NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX stored_responses_expiry ON stored_responses (expires_at_ms);
