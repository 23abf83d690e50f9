// Monthly budget accounts in the "state" table: pk BUDGET#<tenant>, sk <YYYY-MM>, holding
// `outstanding` (spent plus reserved) and `spent`. A reservation is one conditional UpdateItem:
// DynamoDB adds the estimate only while outstanding + estimate stays within the budget, so
// concurrent instances can never reserve past it. Settling is one unconditional UpdateItem.
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BudgetLedger, Reservation } from '../../core/budget';
import { isConditionFailed } from './client';
import { roundUsd } from '../../core/usage-totals';

/** Accounts are kept for a while after their month (for inspection), then expire. */
const KEEP_SECONDS = 45 * 24 * 3600;

export interface DynamoBudgetLedgerOptions {
  tableName: string;
  now?: () => number;
}

export class DynamoBudgetLedger implements BudgetLedger {
  constructor(private readonly doc: DynamoDBDocumentClient, private readonly opts: DynamoBudgetLedgerOptions) {}

  private key(tenantId: string, period: string): { pk: string; sk: string } {
    return { pk: `BUDGET#${tenantId}`, sk: period };
  }

  private ttl(): number {
    return Math.floor((this.opts.now ?? Date.now)() / 1000) + KEEP_SECONDS;
  }

  async reserve(tenantId: string, period: string, amount: number, limit: number, force: boolean): Promise<Reservation> {
    const amt = roundUsd(amount);
    // At or over the budget nothing new starts, even a request estimated at 0.
    if (!force && amt > limit) return { admitted: false, committed: await this.spent(tenantId, period) };
    try {
      const out = await this.doc.send(new UpdateCommand({
        TableName: this.opts.tableName,
        Key: this.key(tenantId, period),
        UpdateExpression: 'ADD outstanding :amt SET #ttl = :ttl',
        ...(force ? {} : { ConditionExpression: 'attribute_not_exists(outstanding) OR (outstanding < :limit AND outstanding <= :room)' }),
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':amt': amt, ':ttl': this.ttl(), ...(force ? {} : { ':limit': limit, ':room': roundUsd(limit - amt) }) },
        ReturnValues: 'ALL_NEW',
      }));
      return { admitted: true, committed: Number(out.Attributes?.spent ?? 0) };
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      return { admitted: false, committed: await this.spent(tenantId, period) };
    }
  }

  async settle(tenantId: string, period: string, reserved: number, actual: number): Promise<void> {
    await this.doc.send(new UpdateCommand({
      TableName: this.opts.tableName,
      Key: this.key(tenantId, period),
      UpdateExpression: 'ADD outstanding :delta, spent :actual SET #ttl = :ttl',
      ExpressionAttributeNames: { '#ttl': 'ttl' },
      ExpressionAttributeValues: { ':delta': roundUsd(actual - reserved), ':actual': roundUsd(actual), ':ttl': this.ttl() },
    }));
  }

  /** Spent this period (read only when refusing: the 429 names it). */
  private async spent(tenantId: string, period: string): Promise<number> {
    const out = await this.doc.send(new GetCommand({ TableName: this.opts.tableName, Key: this.key(tenantId, period), ConsistentRead: true }));
    return Number(out.Item?.spent ?? 0);
  }
}
