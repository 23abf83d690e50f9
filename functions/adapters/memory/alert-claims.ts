import type { AlertClaims } from '../../core/ports';

/** Sent-alert claims in process: exact for one instance. */
export class MemoryAlertClaims implements AlertClaims {
  private readonly taken = new Set<string>();

  async claim(tenantId: string, period: string, thresholdPct: number): Promise<boolean> {
    const key = `${tenantId}\u0000${period}\u0000${thresholdPct}`;
    if (this.taken.has(key)) return false;
    this.taken.add(key);
    return true;
  }

  async release(tenantId: string, period: string, thresholdPct: number): Promise<void> {
    this.taken.delete(`${tenantId}\u0000${period}\u0000${thresholdPct}`);
  }
}
