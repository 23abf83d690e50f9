// Rate limits in the "state" table, one item per tenant and fixed one-minute window:
// pk RL#<tenant>#<window start ms>, sk REQ (request count) or TOK (tokens spent).
// consumeRequest is one conditional UpdateItem: DynamoDB applies ADD only while the count is under
// the limit, so concurrent instances admit exactly the limit without a read first.
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RateLimitDecision, RateLimiter } from '../../core/ports';
import { isConditionFailed } from './client';

const WINDOW_MS = 60_000;
/** Items outlive their window by one more, so a late reader never sees a half-deleted window. */
const KEEP_SECONDS = (2 * WINDOW_MS) / 1000;

export interface DynamoRateLimiterOptions {
  tableName: string;
}

function windowOf(tenantId: string, nowMs: number): { pk: string; ttl: number; resetMs: number } {
  const start = nowMs - (nowMs % WINDOW_MS);
  return { pk: `RL#${tenantId}#${start}`, ttl: Math.floor(start / 1000) + KEEP_SECONDS, resetMs: start + WINDOW_MS - nowMs };
}

export class DynamoRateLimiter implements RateLimiter {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly opts: DynamoRateLimiterOptions,
  ) {}

  async consumeRequest(tenantId: string, limitPerMinute: number, nowMs: number): Promise<RateLimitDecision> {
    const { pk, ttl, resetMs } = windowOf(tenantId, nowMs);
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.opts.tableName,
          Key: { pk, sk: 'REQ' },
          UpdateExpression: 'ADD #count :one SET #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(#count) OR #count < :limit',
          ExpressionAttributeNames: { '#count': 'count', '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':one': 1, ':limit': limitPerMinute, ':ttl': ttl },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      const count = Number(out.Attributes?.count ?? limitPerMinute);
      return { allowed: true, limit: limitPerMinute, remaining: Math.max(0, limitPerMinute - count), resetMs };
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      return { allowed: false, limit: limitPerMinute, remaining: 0, resetMs };
    }
  }

  async checkTokens(tenantId: string, limitPerMinute: number, nowMs: number): Promise<RateLimitDecision> {
    const { pk, resetMs } = windowOf(tenantId, nowMs);
    // Consistent: tokens added by another instance a moment ago must count.
    const out = await this.doc.send(new GetCommand({ TableName: this.opts.tableName, Key: { pk, sk: 'TOK' }, ConsistentRead: true }));
    const used = Number(out.Item?.tokens ?? 0);
    return { allowed: used < limitPerMinute, limit: limitPerMinute, remaining: Math.max(0, limitPerMinute - used), resetMs };
  }

  async addTokens(tenantId: string, tokens: number, nowMs: number): Promise<void> {
    const { pk, ttl } = windowOf(tenantId, nowMs);
    await this.doc.send(
      new UpdateCommand({
        TableName: this.opts.tableName,
        Key: { pk, sk: 'TOK' },
        UpdateExpression: 'ADD #tokens :n SET #ttl = :ttl',
        ExpressionAttributeNames: { '#tokens': 'tokens', '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':n': tokens, ':ttl': ttl },
      }),
    );
  }
}
