// Usage totals in the "usage" table, idempotent by request id with single-item conditional writes
// only (no transactions, so it runs the same on DynamoDB and on a local dynalite):
//   USAGE#<tenant>   DAY#<YYYY-MM-DD>#<model>   counters for one tenant, day and model
//   USAGE#<tenant>   MONTH#<YYYY-MM>            the month's request count and cost (alerts)
//   REQ#<request id> REQ                        the event's marker: pending (with an owner and
//                                               a lease) or done; expires after MARKER_DAYS
// Applying: (1) create the marker, pending, leased to this attempt; (2) add the event to each
// counter item while setting a per-request flag attribute on it, on condition that the flag is
// absent, so an item never counts the event twice; (3) run `then`; (4) mark the marker done if
// this attempt still owns it; (5) remove the flags. A marker already done means the event was
// counted; a pending one whose lease ran out is taken over, and step 2 then adds only where the
// earlier attempt had not. Flags live only while an event is in flight, so items stay small.
import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { UsageApplied, UsageEvent, UsageStore, UsageTotals } from '../../core/ports';
import { addTotals, emptyTotals, roundUsd, sumTotals } from '../../core/usage-totals';
import { isConditionFailed } from './client';

/** How long a delivery may hold an event before another may take it over. */
const LEASE_MS = 30_000;
/** Markers outlive any redelivery (SQS keeps a message at most 14 days). */
const MARKER_DAYS = 15;

export interface DynamoUsageStoreOptions {
  tableName: string;
  now?: () => number;
}

/** The event is being applied by another delivery right now: retry it later. */
export class UsageInFlightError extends Error {
  constructor(requestId: string) {
    super(`usage event ${requestId} is being applied by another delivery`);
    this.name = 'UsageInFlightError';
  }
}

type Key = { pk: string; sk: string };

export class DynamoUsageStore implements UsageStore {
  private readonly now: () => number;

  constructor(private readonly doc: DynamoDBDocumentClient, private readonly opts: DynamoUsageStoreOptions) {
    this.now = opts.now ?? Date.now;
  }

  async apply(event: UsageEvent, then: (applied: UsageApplied) => Promise<void>): Promise<UsageApplied> {
    const marker: Key = { pk: `REQ#${event.request_id}`, sk: 'REQ' };
    const owner = randomUUID();
    if (!(await this.startMarker(marker, owner))) {
      const existing = await this.get(marker);
      if (existing?.state === 'done') return { counted: false, month_cost_usd: await this.monthCost(event) };
      await this.takeOver(marker, owner, event.request_id);
    }

    const flag = `r_${event.request_id}`;
    const day: Key = { pk: `USAGE#${event.tenant_id}`, sk: `DAY#${event.timestamp.slice(0, 10)}#${event.model}` };
    const month: Key = { pk: `USAGE#${event.tenant_id}`, sk: `MONTH#${event.timestamp.slice(0, 7)}` };
    const cost = roundUsd(event.cost_usd);
    const [, monthAfter] = await Promise.all([
      this.addOnce(day, flag, {
        request_count: 1, prompt_tokens: event.prompt_tokens, completion_tokens: event.completion_tokens,
        cached_tokens: event.cached_tokens, cost_usd: cost, cache_hits: event.cache_hit ? 1 : 0,
      }),
      this.addOnce(month, flag, { request_count: 1, cost_usd: cost }),
    ]);
    const applied: UsageApplied = {
      counted: monthAfter !== undefined,
      month_cost_usd: monthAfter !== undefined ? Number(monthAfter.cost_usd ?? 0) : await this.monthCost(event),
    };
    try {
      await then(applied);
    } catch (err) {
      // Let the next delivery take over at once rather than after the lease.
      await this.update(marker, 'SET lease_until = :zero', '#owner = :me', { ':zero': 0, ':me': owner }).catch(() => undefined);
      throw err;
    }
    if (await this.update(marker, 'SET #state = :done REMOVE lease_until', '#owner = :me', { ':done': 'done', ':me': owner })) {
      await Promise.all([day, month].map((k) => this.update(k, 'REMOVE #flag', undefined, {}, { '#flag': flag })));
    }
    return applied;
  }

  /** Creates the event's marker, leased to `owner`; false if it exists. */
  private async startMarker(key: Key, owner: string): Promise<boolean> {
    const nowMs = this.now();
    try {
      await this.doc.send(new PutCommand({
        TableName: this.opts.tableName,
        Item: { ...key, state: 'pending', owner, lease_until: nowMs + LEASE_MS, ttl: Math.floor(nowMs / 1000) + MARKER_DAYS * 86_400 },
        ConditionExpression: 'attribute_not_exists(pk)',
      }));
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  /** Takes a pending marker whose lease ran out; throws UsageInFlightError while it is held. */
  private async takeOver(key: Key, owner: string, requestId: string): Promise<void> {
    const nowMs = this.now();
    const taken = await this.update(key, 'SET #owner = :me, lease_until = :until', '#state = :pending AND lease_until < :now',
      { ':me': owner, ':until': nowMs + LEASE_MS, ':pending': 'pending', ':now': nowMs });
    if (!taken) throw new UsageInFlightError(requestId);
  }

  /** Adds `values` to an item unless it carries `flag`; the item's new values, or undefined if it did. */
  private async addOnce(key: Key, flag: string, values: Record<string, number>): Promise<Record<string, unknown> | undefined> {
    const names = Object.keys(values);
    try {
      const out = await this.doc.send(new UpdateCommand({
        TableName: this.opts.tableName,
        Key: key,
        UpdateExpression: `ADD ${names.map((_, i) => `#a${i} :a${i}`).join(', ')} SET #flag = :true`,
        ConditionExpression: 'attribute_not_exists(#flag)',
        ExpressionAttributeNames: { '#flag': flag, ...Object.fromEntries(names.map((n, i) => [`#a${i}`, n])) },
        ExpressionAttributeValues: { ':true': true, ...Object.fromEntries(names.map((n, i) => [`:a${i}`, values[n]])) },
        ReturnValues: 'ALL_NEW',
      }));
      return out.Attributes ?? {};
    } catch (err) {
      if (isConditionFailed(err)) return undefined;
      throw err;
    }
  }

  /** An update, conditional when `condition` is given; false if the condition failed. */
  private async update(key: Key, expression: string, condition: string | undefined, values: Record<string, unknown>, names: Record<string, string> = {}): Promise<boolean> {
    const allNames: Record<string, string> = { ...names };
    if (/#state\b/.test(expression + (condition ?? ''))) allNames['#state'] = 'state';
    if (/#owner\b/.test(expression + (condition ?? ''))) allNames['#owner'] = 'owner';
    try {
      await this.doc.send(new UpdateCommand({
        TableName: this.opts.tableName,
        Key: key,
        UpdateExpression: expression,
        ...(condition ? { ConditionExpression: condition } : {}),
        ...(Object.keys(allNames).length > 0 ? { ExpressionAttributeNames: allNames } : {}),
        ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
      }));
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  private async get(key: Key): Promise<Record<string, unknown> | undefined> {
    return (await this.doc.send(new GetCommand({ TableName: this.opts.tableName, Key: key, ConsistentRead: true }))).Item;
  }

  private async monthCost(event: UsageEvent): Promise<number> {
    const item = await this.get({ pk: `USAGE#${event.tenant_id}`, sk: `MONTH#${event.timestamp.slice(0, 7)}` });
    return Number(item?.cost_usd ?? 0);
  }

  async totals(tenantId: string, fromIso: string, toIso: string): Promise<UsageTotals> {
    return sumTotals(await this.totalsByModel(tenantId, fromIso, toIso));
  }

  async totalsByModel(tenantId: string, fromIso: string, toIso: string): Promise<Record<string, UsageTotals>> {
    const byModel: Record<string, UsageTotals> = {};
    const from = `DAY#${fromIso.slice(0, 10)}`;
    const to = `DAY#${toIso.slice(0, 10)}#\uffff`;
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(new QueryCommand({
        TableName: this.opts.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': `USAGE#${tenantId}`, ':from': from, ':to': to },
        ExclusiveStartKey: start,
      }));
      for (const item of out.Items ?? []) {
        const model = String(item.sk).slice('DAY#YYYY-MM-DD#'.length);
        addTotals((byModel[model] ??= emptyTotals()), {
          request_count: Number(item.request_count ?? 0),
          prompt_tokens: Number(item.prompt_tokens ?? 0),
          completion_tokens: Number(item.completion_tokens ?? 0),
          cost_usd: Number(item.cost_usd ?? 0),
          cache_hits: Number(item.cache_hits ?? 0),
        });
      }
      start = out.LastEvaluatedKey;
    } while (start);
    return byModel;
  }
}
