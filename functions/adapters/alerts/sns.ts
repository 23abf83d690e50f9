// functions/adapters/alerts — where budget alerts go besides the log: the stack's SNS topic (sns.ts)
// and a JSON webhook (webhook.ts), each an AlertPublisher (core/ports). Which alert is due, and that
// it goes out once, is decided by core/budget-alerts.ts over the alert-claims stores, not here.
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { AlertPublisher, BudgetAlert } from '../../core/ports';
import { alertText } from './webhook';

/** SNS caps e-mail subjects at 100 characters. */
const MAX_SUBJECT = 100;

/** Publishes each budget alert to the stack's alert topic (its e-mail subscription delivers it). */
export class SnsAlertPublisher implements AlertPublisher {
  readonly name = 'sns';

  constructor(
    private readonly sns: Pick<SNSClient, 'send'>,
    private readonly topicArn: string,
  ) {}

  async publish(alert: BudgetAlert): Promise<void> {
    await this.sns.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: `AI Gateway budget: ${alert.tenant_id} at ${alert.threshold_pct}%`.slice(0, MAX_SUBJECT),
        Message: `${alertText(alert)}\n\n${JSON.stringify(alert, null, 2)}`,
        MessageAttributes: {
          tenant_id: { DataType: 'String', StringValue: alert.tenant_id },
          threshold_pct: { DataType: 'Number', StringValue: String(alert.threshold_pct) },
        },
      }),
    );
  }
}
