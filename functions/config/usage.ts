// Usage accounting (where totals and usage events go) and budget alerts (where they are sent).
import * as v from 'valibot';
import { httpUrl, readEnv, snsTopicArn, tableName, type Env } from './env';

export interface UsageSettings {
  /**
   * Usage accounting: USAGE_TABLE (DynamoDB usage totals; used when set, or when tenants are in
   * DynamoDB) and USAGE_QUEUE_URL (SQS; unset = the in-process queue).
   */
  usage: { table: string; tableSet: boolean; queueUrl?: string };
  /** Budget alerts: ALERT_TOPIC_ARN (SNS) and ALERT_WEBHOOK_URL, besides the log. */
  alerts: { topicArn?: string; webhookUrl?: string };
}

const UsageEnv = v.object({
  USAGE_TABLE: v.optional(tableName),
  USAGE_QUEUE_URL: v.optional(httpUrl),
  ALERT_TOPIC_ARN: v.optional(snsTopicArn),
  ALERT_WEBHOOK_URL: v.optional(httpUrl),
});

export function loadUsageSettings(env: Env): UsageSettings {
  const e = readEnv(env, UsageEnv);
  return {
    usage: { table: e.USAGE_TABLE ?? 'ai-gateway-usage', tableSet: e.USAGE_TABLE !== undefined, queueUrl: e.USAGE_QUEUE_URL },
    alerts: { topicArn: e.ALERT_TOPIC_ARN, webhookUrl: e.ALERT_WEBHOOK_URL },
  };
}
