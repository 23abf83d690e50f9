// Cooldowns in the "state" table, all under one partition: pk COOLDOWN, sk <deployment>, so that
// every running cooldown is one Query. An item carries `ttl` (epoch seconds) for the table's TTL
// deletion; reads skip ended ones, as TTL deletes lazily.
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Cooldown, CooldownStore } from '../../core/ports';
import { isConditionFailed, queryPartition } from './client';

const PK = 'COOLDOWN';

export interface DynamoCooldownStoreOptions {
  tableName: string;
}

function toCooldown(item: Record<string, unknown>): Cooldown {
  const { untilMs, status, header } = item;
  if (typeof untilMs !== 'number' || typeof header !== 'string') throw new Error(`malformed cooldown item ${String(item.sk)}`);
  return { untilMs, status: Number(status ?? 429), header };
}

export class DynamoCooldownStore implements CooldownStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly opts: DynamoCooldownStoreOptions,
  ) {}

  async put(deployment: string, cooldown: Cooldown): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.opts.tableName,
          Item: { pk: PK, sk: deployment, ...cooldown, ttl: Math.ceil(cooldown.untilMs / 1000) + 60 },
          // One that already ends later stays.
          ConditionExpression: 'attribute_not_exists(untilMs) OR untilMs < :until',
          ExpressionAttributeValues: { ':until': cooldown.untilMs },
        }),
      );
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }

  async active(nowMs: number): Promise<Record<string, Cooldown>> {
    const running: Record<string, Cooldown> = {};
    // Consistent: a cooldown another instance just started must be seen at once.
    for (const item of await queryPartition(this.doc, this.opts.tableName, PK)) {
      const cooldown = toCooldown(item);
      if (cooldown.untilMs > nowMs) running[String(item.sk)] = cooldown;
    }
    return running;
  }
}
