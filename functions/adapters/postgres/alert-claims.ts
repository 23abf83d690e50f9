// Sent budget alerts in PostgreSQL: one row per (tenant, period, threshold); the insert that
// makes it is the claim, so of any number of replicas exactly one sends each alert.
import type { AlertClaims } from '../../core/ports';
import type { PgDatabase } from './pool';

export class PgAlertClaims implements AlertClaims {
  constructor(private readonly db: PgDatabase) {}

  async claim(tenantId: string, period: string, thresholdPct: number): Promise<boolean> {
    const rows = await this.db.query(
      {
        name: 'alert_claim',
        text: 'INSERT INTO alert_claims (tenant_id, period, threshold_pct) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1 AS claimed',
      },
      [tenantId, period, thresholdPct],
    );
    return rows.length === 1;
  }

  async release(tenantId: string, period: string, thresholdPct: number): Promise<void> {
    await this.db.query({ text: 'DELETE FROM alert_claims WHERE tenant_id = $1 AND period = $2 AND threshold_pct = $3' }, [tenantId, period, thresholdPct]);
  }
}
