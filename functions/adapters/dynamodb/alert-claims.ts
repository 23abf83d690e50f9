// Sent budget alerts in the "usage" table: pk ALERT#<tenant>, sk <YYYY-MM>#<threshold>. Claiming
// is a conditional PutItem, so of any number of aggregators exactly one sends each alert; a
// tenant's claims are one partition, listed newest first by a Query.
import { DeleteCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { newestClaimsFirst } from '../../core/budget-alerts';
import type { AlertClaimRecord, AlertClaims } from '../../core/ports';
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

  async list(tenantId: string, limit: number): Promise<AlertClaimRecord[]> {
    const claims: AlertClaimRecord[] = [];
    let start: Record<string, unknown> | undefined;
    // Sort keys order by period, then threshold as text ("100" < "50"): read the newest pages and order here.
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.opts.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `ALERT#${tenantId}` },
          ScanIndexForward: false,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of out.Items ?? []) {
        const sk = String(item.sk);
        const cut = sk.lastIndexOf('#');
        claims.push({ period: sk.slice(0, cut), threshold_pct: Number(sk.slice(cut + 1)), claimed_at: String(item.sent_at ?? '') });
      }
      start = out.LastEvaluatedKey;
    } while (start && claims.length < limit + 8);
    return newestClaimsFirst(claims).slice(0, limit);
  }
}
