import type { AlertClaimRecord, AlertClaims } from '../../core/ports';
import { newestClaimsFirst } from '../../core/budget-alerts';

/** Sent-alert claims in process: exact for one instance. */
export class MemoryAlertClaims implements AlertClaims {
  /** tenant → "<period>\0<threshold>" → the claim */
  private readonly taken = new Map<string, Map<string, AlertClaimRecord>>();

  constructor(private readonly now: () => number = Date.now) {}

  async claim(tenantId: string, period: string, thresholdPct: number): Promise<boolean> {
    let claims = this.taken.get(tenantId);
    if (!claims) this.taken.set(tenantId, (claims = new Map()));
    const key = `${period}\u0000${thresholdPct}`;
    if (claims.has(key)) return false;
    claims.set(key, { period, threshold_pct: thresholdPct, claimed_at: new Date(this.now()).toISOString() });
    return true;
  }

  async release(tenantId: string, period: string, thresholdPct: number): Promise<void> {
    this.taken.get(tenantId)?.delete(`${period}\u0000${thresholdPct}`);
  }

  async list(tenantId: string, limit: number): Promise<AlertClaimRecord[]> {
    return newestClaimsFirst([...(this.taken.get(tenantId)?.values() ?? [])]).slice(0, limit);
  }
}
