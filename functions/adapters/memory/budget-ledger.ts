import type { AlertSink, BudgetAlert, BudgetLedger, Reservation, Settlement } from '../../core/budget';
import type { Logger } from '../../core/logger';

interface Account {
  committed: number;
  reserved: number;
}

/** Spend per tenant and period, in process: exact for one instance. */
export class MemoryBudgetLedger implements BudgetLedger {
  /** tenant → period → account (nested maps: no key string built per request). */
  private readonly accounts = new Map<string, Map<string, Account>>();

  private account(tenantId: string, period: string): Account {
    let periods = this.accounts.get(tenantId);
    if (!periods) this.accounts.set(tenantId, (periods = new Map()));
    let a = periods.get(period);
    if (!a) {
      // A new month starts from zero; earlier months are no longer needed here.
      periods.clear();
      periods.set(period, (a = { committed: 0, reserved: 0 }));
    }
    return a;
  }

  reserve(tenantId: string, period: string, amount: number, limit: number, force: boolean): Reservation {
    const a = this.account(tenantId, period);
    // At or over the budget nothing new starts, even a request estimated at 0.
    const admitted = force || (a.committed + a.reserved < limit && a.committed + a.reserved + amount <= limit);
    if (admitted) a.reserved += amount;
    return { admitted, committed: a.committed };
  }

  settle(tenantId: string, period: string, reserved: number, actual: number): Settlement {
    const a = this.account(tenantId, period);
    const before = a.committed;
    a.reserved = Math.max(0, a.reserved - reserved);
    a.committed = Math.round((a.committed + actual) * 1e10) / 1e10;
    return { before, after: a.committed };
  }
}

/** Budget alerts in the log, and to ALERT_WEBHOOK_URL when set; each (tenant, period, threshold) once. */
export class LogAlertSink implements AlertSink {
  private readonly sent = new Set<string>();

  constructor(private readonly logger: Logger, private readonly post?: (alert: BudgetAlert) => Promise<void>) {}

  async sendOnce(alert: BudgetAlert): Promise<boolean> {
    const key = `${alert.tenant_id}\u0000${alert.period}\u0000${alert.threshold_pct}`;
    if (this.sent.has(key)) return false;
    this.sent.add(key);
    this.logger.warn('budget threshold crossed', { ...alert });
    if (this.post) await this.post(alert);
    return true;
  }
}
