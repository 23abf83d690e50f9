// Budget alerts: who claimed which threshold, and where an alert goes.

export interface BudgetAlert {
  tenant_id: string;
  /** The budget period, "YYYY-MM" (UTC month). */
  period: string;
  threshold_pct: number;
  spent_usd: number;
  budget_usd: number;
}

/** A claim as listed: the alert for that period and threshold was sent (or is being sent) then. */
export interface AlertClaimRecord {
  period: string;
  threshold_pct: number;
  claimed_at: string;
}

/** Which alerts were sent: one claim per (tenant, period, threshold), taken atomically. */
export interface AlertClaims {
  /** True if this call took the claim (nobody had it), false if it was already taken. */
  claim(tenantId: string, period: string, thresholdPct: number): Promise<boolean>;
  /** Gives a claim back after its alert could not be sent, so a later attempt sends it. */
  release(tenantId: string, period: string, thresholdPct: number): Promise<void>;
  /** The tenant's claims, newest period first (higher threshold first within one), at most `limit`. */
  list(tenantId: string, limit: number): Promise<AlertClaimRecord[]>;
}

/** Where an alert goes: SNS (e-mail) in AWS; the log and an optional webhook locally. */
export interface AlertPublisher {
  readonly name: string;
  publish(alert: BudgetAlert): Promise<void>;
}
