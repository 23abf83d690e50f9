// Usage totals in the "usage" table, idempotent by request id with single-item conditional writes
// only (no transactions, so it runs the same on DynamoDB and on a local dynalite):
//   USAGE#<tenant>   DAY#<YYYY-MM-DD>#<model>   counters for one tenant, day and model
//   USAGE#<tenant>   MONTH#<YYYY-MM>            the month's request count and cost (alerts)
//   REQ#<request id> REQ                        the event's marker: marker_state pending (with a
//                                               lease_owner and lease_until) or done; expires after MARKER_DAYS
// Applying: (1) create the marker, pending, leased to this attempt; (2) add the event to each
// counter item while setting a per-request flag attribute on it, on condition that the flag is
// absent, so an item never counts the event twice; (3) run `then`; (4) mark the marker done if
// this attempt still owns it; (5) remove the flags. A marker already done means the event was
// counted; a pending one whose lease ran out is taken over, and step 2 then adds only where the
// earlier attempt had not. Flags live only while an event is in flight, so items stay small.
// A batch (applyMany) writes one marker per event but updates each counter item once for all its
// fresh events (a flag per event), so a busy tenant's items take one write per batch.
import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { UsageApplied, UsageEvent, UsageStore, UsageTotals } from '../../core/ports';
import { groupTotals, isErrorStatus, roundUsd, sumTotals } from '../../core/usage-totals';
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

/** Flags per counter update: keeps the expression well under DynamoDB's 4 KB limit. */
const MAX_FLAGS = 40;

const markerOf = (e: UsageEvent): Key => ({ pk: `REQ#${e.request_id}`, sk: 'REQ' });
const flagOf = (e: UsageEvent): string => `r_${e.request_id}`;
const itemsOf = (e: UsageEvent): { day: Key; month: Key } => ({
  day: { pk: `USAGE#${e.tenant_id}`, sk: `DAY#${e.timestamp.slice(0, 10)}#${e.model}` },
  month: { pk: `USAGE#${e.tenant_id}`, sk: `MONTH#${e.timestamp.slice(0, 7)}` },
});
const dayValues = (e: UsageEvent): Record<string, number> => ({
  request_count: 1,
  prompt_tokens: e.prompt_tokens,
  completion_tokens: e.completion_tokens,
  cached_tokens: e.cached_tokens,
  cost_usd: roundUsd(e.cost_usd),
  cache_hits: e.cache_hit ? 1 : 0,
  errors: isErrorStatus(e.status) ? 1 : 0,
});
const monthValues = (e: UsageEvent): Record<string, number> => ({ request_count: 1, cost_usd: roundUsd(e.cost_usd) });

function sumValues(list: Array<Record<string, number>>): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const v of list) for (const [k, n] of Object.entries(v)) sum[k] = roundUsd((sum[k] ?? 0) + n);
  return sum;
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

export class DynamoUsageStore implements UsageStore {
  private readonly now: () => number;
  /**
   * Lease owners are `<this store's id>/<attempt>`. A retry of an event whose earlier attempt here
   * failed midway (the store went away) takes the event over at once instead of after the lease,
   * once no attempt of it is running here: the flags keep a late write of the failed attempt from
   * counting twice. Another process (a concurrent SQS redelivery) still waits for the lease.
   */
  private readonly storeId = randomUUID();
  /** Request ids with an attempt running in this store, and how many. */
  private readonly running = new Map<string, number>();

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly opts: DynamoUsageStoreOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  async apply(event: UsageEvent, then: (applied: UsageApplied) => Promise<void>): Promise<UsageApplied> {
    const owner = this.newOwner();
    const reclaim = !this.running.has(event.request_id);
    this.enter([event.request_id]);
    try {
      if (!(await this.startMarker(markerOf(event), owner))) {
        const existing = await this.get(markerOf(event));
        if (existing?.marker_state === 'done') return { counted: false, month_cost_usd: await this.monthCost(event) };
        await this.takeOver(markerOf(event), owner, event.request_id, reclaim);
      }
      return await this.finish(event, owner, then);
    } finally {
      this.leave([event.request_id]);
    }
  }

  private newOwner(): string {
    return `${this.storeId}/${randomUUID()}`;
  }

  private enter(ids: readonly string[]): void {
    for (const id of ids) this.running.set(id, (this.running.get(id) ?? 0) + 1);
  }

  private leave(ids: readonly string[]): void {
    for (const id of ids) {
      const n = this.running.get(id) ?? 0;
      if (n <= 1) this.running.delete(id);
      else this.running.set(id, n - 1);
    }
  }

  /** Steps 2 to 5 for one event whose marker `owner` holds. */
  private async finish(event: UsageEvent, owner: string, then: (applied: UsageApplied) => Promise<void>): Promise<UsageApplied> {
    const flag = flagOf(event);
    const { day, month } = itemsOf(event);
    const [, monthAfter] = await Promise.all([this.addOnce(day, [flag], dayValues(event)), this.addOnce(month, [flag], monthValues(event))]);
    const applied: UsageApplied = {
      counted: monthAfter !== undefined,
      month_cost_usd: monthAfter !== undefined ? Number(monthAfter.cost_usd ?? 0) : await this.monthCost(event),
    };
    try {
      await then(applied);
    } catch (err) {
      await this.releaseLease(event, owner);
      throw err;
    }
    if (await this.markDone(event, owner)) await Promise.all([day, month].map((k) => this.removeFlags(k, [flag])));
    return applied;
  }

  /**
   * A batch: markers one per event, but each counter item (tenant × day × model, tenant × month)
   * updated once for all the batch's fresh events on it, so a busy tenant's items take one write
   * per batch instead of one per request. Events seen before go the one-by-one way.
   */
  async applyMany(events: readonly UsageEvent[], then: (event: UsageEvent, applied: UsageApplied) => Promise<void>): Promise<Array<UsageApplied | Error>> {
    const out = new Array<UsageApplied | Error>(events.length);
    const owner = this.newOwner();
    const fresh: number[] = [];
    const seen: number[] = [];
    await Promise.all(
      events.map(async (e, i) => {
        try {
          ((await this.startMarker(markerOf(e), owner)) ? fresh : seen).push(i);
        } catch (err) {
          out[i] = asError(err);
        }
      }),
    );
    // The batch's own events are running here: a repeat of one inside the batch must wait for it.
    const freshIds = fresh.map((i) => (events[i] as UsageEvent).request_id);
    this.enter(freshIds);
    try {
      return await this.applyFresh(events, fresh, seen, out, owner, then);
    } finally {
      this.leave(freshIds);
    }
  }

  private async applyFresh(
    events: readonly UsageEvent[],
    fresh: number[],
    seen: number[],
    out: Array<UsageApplied | Error>,
    owner: string,
    then: (event: UsageEvent, applied: UsageApplied) => Promise<void>,
  ): Promise<Array<UsageApplied | Error>> {
    const one = async (i: number, run: () => Promise<UsageApplied>): Promise<void> => {
      try {
        out[i] = await run();
      } catch (err) {
        out[i] = asError(err);
      }
    };
    const ev = (i: number): UsageEvent => events[i] as UsageEvent;
    await Promise.all(seen.map((i) => one(i, () => this.apply(ev(i), (a) => then(ev(i), a)))));

    // Counter items and the fresh events on each, at most MAX_FLAGS per update.
    type Group = { key: Key; members: number[]; month: string | undefined };
    const open = new Map<string, Group>();
    const all: Group[] = [];
    const join = (key: Key, i: number, month?: string): void => {
      const id = `${key.pk}\u0000${key.sk}`;
      let g = open.get(id);
      if (!g || g.members.length >= MAX_FLAGS) {
        open.set(id, (g = { key, members: [], month }));
        all.push(g);
      }
      g.members.push(i);
    };
    for (const i of fresh) {
      const { day, month } = itemsOf(ev(i));
      join(day, i);
      join(month, i, `${ev(i).tenant_id}\u0000${ev(i).timestamp.slice(0, 7)}`);
    }
    // A group whose condition fails (an event on it was applied by another delivery meanwhile) is
    // finished event by event; its flags keep those events from counting twice.
    const retry = new Set<number>();
    const monthCost = new Map<string, number>();
    const failedWrite = new Map<number, Error>();
    await Promise.all(
      all.map(async (g) => {
        const sums = sumValues(g.members.map((i) => (g.month ? monthValues(ev(i)) : dayValues(ev(i)))));
        try {
          const after = await this.addOnce(
            g.key,
            g.members.map((i) => flagOf(ev(i))),
            sums,
          );
          if (after === undefined) g.members.forEach((i) => retry.add(i));
          else if (g.month) monthCost.set(g.month, Math.max(monthCost.get(g.month) ?? 0, Number(after.cost_usd ?? 0)));
        } catch (err) {
          g.members.forEach((i) => failedWrite.set(i, asError(err)));
        }
      }),
    );
    const batched = fresh.filter((i) => !retry.has(i) && !failedWrite.has(i));
    // `then` once per tenant and month, with the cost after the whole batch.
    const byMonth = new Map<string, number[]>();
    for (const i of batched) {
      const m = `${ev(i).tenant_id}\u0000${ev(i).timestamp.slice(0, 7)}`;
      let members = byMonth.get(m);
      if (!members) byMonth.set(m, (members = []));
      members.push(i);
    }
    const done: number[] = [];
    await Promise.all(
      [...byMonth].map(async ([m, members]) => {
        const applied: UsageApplied = { counted: true, month_cost_usd: monthCost.get(m) ?? 0 };
        try {
          await then(ev(members[members.length - 1] as number), applied);
        } catch (err) {
          for (const i of members) out[i] = asError(err);
          await Promise.all(members.map((i) => this.releaseLease(ev(i), owner)));
          return;
        }
        await Promise.all(
          members.map(async (i) => {
            out[i] = applied;
            if (await this.markDone(ev(i), owner).catch(() => false)) done.push(i);
          }),
        );
      }),
    );
    const finished = new Set(done);
    await Promise.all(
      all.map((g) => {
        const flags = g.members.filter((i) => finished.has(i)).map((i) => flagOf(ev(i)));
        return flags.length > 0 ? this.removeFlags(g.key, flags) : undefined;
      }),
    );
    for (const [i, err] of failedWrite) {
      out[i] = err;
      await this.releaseLease(ev(i), owner);
    }
    await Promise.all([...retry].filter((i) => !failedWrite.has(i)).map((i) => one(i, () => this.finish(ev(i), owner, (a) => then(ev(i), a)))));
    return out;
  }

  /** Lets the next delivery take an event over at once rather than after the lease. */
  private async releaseLease(event: UsageEvent, owner: string): Promise<void> {
    await this.update(markerOf(event), 'SET lease_until = :zero', 'lease_owner = :me', { ':zero': 0, ':me': owner }).catch(() => undefined);
  }

  /** Marks the event done if `owner` still holds it. */
  private markDone(event: UsageEvent, owner: string): Promise<boolean> {
    return this.update(markerOf(event), 'SET marker_state = :done REMOVE lease_until', 'lease_owner = :me', { ':done': 'done', ':me': owner });
  }

  private async removeFlags(key: Key, flags: string[]): Promise<void> {
    await this.update(key, `REMOVE ${flags.map((_, j) => `#f${j}`).join(', ')}`, undefined, {}, Object.fromEntries(flags.map((f, j) => [`#f${j}`, f])));
  }

  /** Creates the event's marker, leased to `owner`; false if it exists. */
  private async startMarker(key: Key, owner: string): Promise<boolean> {
    const nowMs = this.now();
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.opts.tableName,
          Item: { ...key, marker_state: 'pending', lease_owner: owner, lease_until: nowMs + LEASE_MS, ttl: Math.floor(nowMs / 1000) + MARKER_DAYS * 86_400 },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  /**
   * Takes a pending marker whose lease ran out, or (`reclaim`: no attempt of it runs here now) one
   * an earlier attempt of this store left; throws UsageInFlightError while another holds it.
   */
  private async takeOver(key: Key, owner: string, requestId: string, reclaim: boolean): Promise<void> {
    const nowMs = this.now();
    const mine = reclaim ? ' OR begins_with(lease_owner, :store)' : '';
    const taken = await this.update(key, 'SET lease_owner = :me, lease_until = :until', `marker_state = :pending AND (lease_until < :now${mine})`, {
      ':me': owner,
      ':until': nowMs + LEASE_MS,
      ':pending': 'pending',
      ':now': nowMs,
      ...(reclaim ? { ':store': `${this.storeId}/` } : {}),
    });
    if (!taken) throw new UsageInFlightError(requestId);
  }

  /** Adds `values` to an item unless it carries any of `flags` (then sets them); its new values, or undefined. */
  private async addOnce(key: Key, flags: string[], values: Record<string, number>): Promise<Record<string, unknown> | undefined> {
    const names = Object.keys(values);
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.opts.tableName,
          Key: key,
          UpdateExpression: `ADD ${names.map((_, i) => `#a${i} :a${i}`).join(', ')} SET ${flags.map((_, j) => `#f${j} = :true`).join(', ')}`,
          ConditionExpression: flags.map((_, j) => `attribute_not_exists(#f${j})`).join(' AND '),
          ExpressionAttributeNames: { ...Object.fromEntries(flags.map((f, j) => [`#f${j}`, f])), ...Object.fromEntries(names.map((n, i) => [`#a${i}`, n])) },
          ExpressionAttributeValues: { ':true': true, ...Object.fromEntries(names.map((n, i) => [`:a${i}`, values[n]])) },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes ?? {};
    } catch (err) {
      if (isConditionFailed(err)) return undefined;
      throw err;
    }
  }

  /** An update, conditional when `condition` is given; false if the condition failed. */
  private async update(
    key: Key,
    expression: string,
    condition: string | undefined,
    values: Record<string, unknown>,
    names: Record<string, string> = {},
  ): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.opts.tableName,
          Key: key,
          UpdateExpression: expression,
          ...(condition ? { ConditionExpression: condition } : {}),
          ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
          ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
        }),
      );
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

  totalsByModel(tenantId: string, fromIso: string, toIso: string): Promise<Record<string, UsageTotals>> {
    return groupTotals((visit) => this.readDays(tenantId, fromIso, toIso, visit), 'model');
  }

  totalsByDay(tenantId: string, fromIso: string, toIso: string): Promise<Record<string, UsageTotals>> {
    return groupTotals((visit) => this.readDays(tenantId, fromIso, toIso, visit), 'day');
  }

  /** Every day-and-model counter item of the tenant in the range (whole UTC days), in one paged query. */
  private async readDays(tenantId: string, fromIso: string, toIso: string, visit: (day: string, model: string, totals: UsageTotals) => void): Promise<void> {
    const from = `DAY#${fromIso.slice(0, 10)}`;
    const to = `DAY#${toIso.slice(0, 10)}#\uffff`;
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.opts.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': `USAGE#${tenantId}`, ':from': from, ':to': to },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of out.Items ?? []) {
        const sk = String(item.sk);
        visit(sk.slice('DAY#'.length, 'DAY#YYYY-MM-DD'.length), sk.slice('DAY#YYYY-MM-DD#'.length), {
          request_count: Number(item.request_count ?? 0),
          prompt_tokens: Number(item.prompt_tokens ?? 0),
          completion_tokens: Number(item.completion_tokens ?? 0),
          cost_usd: Number(item.cost_usd ?? 0),
          cache_hits: Number(item.cache_hits ?? 0),
          errors: Number(item.errors ?? 0),
        });
      }
      start = out.LastEvaluatedKey;
    } while (start);
  }
}
