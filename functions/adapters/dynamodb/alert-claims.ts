// Sent budget alerts in the "usage" table: pk ALERT#<tenant>, sk <YYYY-MM>#<threshold>. Claiming
// is a conditional PutItem, so of any number of aggregators exactly one sends each alert.
import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AlertClaims } from '../../core/ports';
import { isConditionFailed } from './client';

export interface DynamoAlertClaimsOptions {
  tableName: string;
  now?: () => number;
}

export class DynamoAlertClaims implements AlertClaims {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly opts: DynamoAlertClaimsOptions,
  ) {}

  private key(tenantId: string, period: string, thresholdPct: number): { pk: string; sk: string } {
    return { pk: `ALERT#${tenantId}`, sk: `${period}#${thresholdPct}` };
  }

  async claim(tenantId: string, period: string, thresholdPct: number): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.opts.tableName,
          Item: { ...this.key(tenantId, period, thresholdPct), sent_at: new Date((this.opts.now ?? Date.now)()).toISOString() },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  async release(tenantId: string, period: string, thresholdPct: number): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.opts.tableName, Key: this.key(tenantId, period, thresholdPct) }));
  }
}
