import type { AlertPublisher, BudgetAlert } from '../../core/ports';

/** Posts each budget alert as JSON to ALERT_WEBHOOK_URL (Slack-style incoming webhooks accept `text`). */
export class WebhookAlertPublisher implements AlertPublisher {
  readonly name = 'webhook';

  constructor(
    private readonly url: string,
    private readonly timeoutMs = 5_000,
  ) {}

  async publish(alert: BudgetAlert): Promise<void> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'budget_alert', text: alertText(alert), ...alert }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) throw new Error(`webhook answered ${res.status}`);
  }
}

/** One line a person reads: in an e-mail subject, a chat message. */
export function alertText(a: BudgetAlert): string {
  return (
    `AI Gateway: tenant "${a.tenant_id}" has used ${a.threshold_pct}% of its ${a.budget_usd} USD budget ` +
    `for ${a.period} (${a.spent_usd.toFixed(4)} USD spent)`
  );
}
