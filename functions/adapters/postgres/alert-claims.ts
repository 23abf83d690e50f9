// Sent budget alerts in PostgreSQL: one row per (tenant, period, threshold); the insert that
// makes it is the claim, so of any number of replicas exactly one sends each alert. The claim's
// time comes from the gateway's clock, as in every other backend.
import type { AlertClaimRecord, AlertClaims } from '../../core/ports';
import type { PgDatabase } from './pool';

// The primary key (tenant_id, period, threshold_pct) read backwards: newest period, then highest
// threshold first, as core/budget-alerts.ts's newestClaimsFirst orders them.
const LIST = {
  name: 'alert_claims_list',
  text: `SELECT period, threshold_pct, to_char(claimed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS claimed_at
FROM alert_claims WHERE tenant_id = $1 ORDER BY period DESC, threshold_pct DESC LIMIT $2`,
};

export class PgAlertClaims implements AlertClaims {
  private readonly now: () => number;

  constructor(
    private readonly db: PgDatabase,
    opts: { now?: () => number } = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  async claim(tenantId: string, period: string, thresholdPct: number): Promise<boolean> {
    const rows = await this.db.query(
      {
        name: 'alert_claim',
        text: 'INSERT INTO alert_claims (tenant_id, period, threshold_pct, claimed_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1 AS claimed',
      },
      [tenantId, period, thresholdPct, new Date(this.now()).toISOString()],
    );
    return rows.length === 1;
  }

  async release(tenantId: string, period: string, thresholdPct: number): Promise<void> {
    await this.db.query({ text: 'DELETE FROM alert_claims WHERE tenant_id = $1 AND period = $2 AND threshold_pct = $3' }, [tenantId, period, thresholdPct]);
  }

  async list(tenantId: string, limit: number): Promise<AlertClaimRecord[]> {
    const rows = await this.db.query<{ period: string; threshold_pct: number; claimed_at: string }>(LIST, [tenantId, limit]);
    return rows.map((r) => ({ period: r.period, threshold_pct: Number(r.threshold_pct), claimed_at: r.claimed_at }));
  }
}
