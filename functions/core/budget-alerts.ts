// Budget threshold alerts (50, 80 and 100 % of a tenant's monthly budget), sent by whoever
// aggregates usage, from the month's counted spend. "Once per threshold per period" is a claim
// in a shared store: the first to claim sends; a failed send gives the claim back for a retry.
import type { Logger } from './logger';
import type { AlertClaimRecord, AlertClaims, AlertPublisher, BudgetAlert, UsageEvent } from './ports';

const ALERT_THRESHOLDS = [50, 80, 100] as const;

/** Claims remembered in process, to skip a store round trip per event once a threshold is sent. */
const KNOWN_CLAIMS = 10_000;

export class BudgetAlerter {
  private readonly known = new Set<string>();

  constructor(
    private readonly claims: AlertClaims,
    private readonly publishers: readonly AlertPublisher[],
    private readonly logger: Logger,
  ) {}

  /**
   * Sends every threshold the month's spend has reached and nobody has sent yet. Measuring
   * "reached" rather than "crossed by this event" lets a redelivered event finish an alert whose
   * first send failed. Throws if a send failed (the caller retries the event).
   */
  async check(event: UsageEvent, monthCostUsd: number): Promise<void> {
    const budget = event.budget_usd;
    if (!(budget > 0)) return;
    const period = event.timestamp.slice(0, 7);
    const failures: unknown[] = [];
    for (const threshold of ALERT_THRESHOLDS) {
      if (monthCostUsd < (budget * threshold) / 100) break;
      const key = `${event.tenant_id}\u0000${period}\u0000${threshold}`;
      if (this.known.has(key)) continue;
      if (await this.claims.claim(event.tenant_id, period, threshold)) {
        const alert: BudgetAlert = { tenant_id: event.tenant_id, period, threshold_pct: threshold, spent_usd: monthCostUsd, budget_usd: budget };
        try {
          await this.send(alert);
        } catch (err) {
          await this.claims.release(event.tenant_id, period, threshold).catch(() => undefined);
          failures.push(err);
          continue;
        }
      }
      if (this.known.size >= KNOWN_CLAIMS) this.known.clear();
      this.known.add(key);
    }
    if (failures.length > 0) throw new Error(`budget alert not sent: ${failures.map(String).join('; ')}`);
  }

  private async send(alert: BudgetAlert): Promise<void> {
    this.logger.warn('budget threshold reached', { ...alert });
    const results = await Promise.allSettled(this.publishers.map((p) => p.publish(alert)));
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${this.publishers[i]?.name}: ${String(r.reason)}`] : []));
    if (failed.length > 0) throw new Error(failed.join('; '));
  }
}

/** The order every AlertClaims.list answers in: newest period first, higher threshold first within one. */
export function newestClaimsFirst(claims: AlertClaimRecord[]): AlertClaimRecord[] {
  return [...claims].sort((a, b) => (a.period !== b.period ? (a.period < b.period ? 1 : -1) : b.threshold_pct - a.threshold_pct));
}
