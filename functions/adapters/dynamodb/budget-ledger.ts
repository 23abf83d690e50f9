// Monthly budget accounts in the "state" table: pk BUDGET#<tenant>, sk <YYYY-MM>, holding
// `outstanding` (spent plus reserved), `spent`, and one attribute `r_<id>` per named reservation
// (its amount, or "void" once fenced). Every change is ONE conditional UpdateItem (dynalite has no
// transactions, and one item needs none): its condition requires `from` at its amount, `to` absent
// and, for reservations, the budget's room, so concurrent instances never reserve past the budget.
// When the condition fails, a consistent read tells why, deciding as core/budget-change.ts does:
// applied before (a repeated call: nothing to do), refused by the budget, or changed in between
// (try again). Reservations and settlements thus stay at one round trip each.
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LedgerCallNotSent, type BudgetChange, type BudgetLedger, type Reservation } from '../../core/ports';
import { decideChange, VOID_HOLD, withinBudget, type HoldValue } from '../../core/budget-change';
import { roundUsd } from '../../core/usage-totals';
import { isConditionFailed } from './client';

/** Accounts are kept for a while after their month (for inspection), then expire (fence markers with them). */
const KEEP_SECONDS = 45 * 24 * 3600;
/** A condition that keeps failing although the item read back would take the change: contention. */
const MAX_ATTEMPTS = 4;

export interface DynamoBudgetLedgerOptions {
  tableName: string;
  now?: () => number;
}

type Item = Record<string, unknown> | undefined;

const holdAttr = (id: string): string => `r_${id}`;

function holdOf(item: Item, id: string): HoldValue {
  const v = item?.[holdAttr(id)];
  return typeof v === 'number' ? v : v === VOID_HOLD ? VOID_HOLD : undefined;
}

const spentOf = (item: Item): number => Number(item?.spent ?? 0);

/** No connection could be made: the request never reached DynamoDB. */
function neverSent(err: unknown): boolean {
  // Duck-typed: socket errors may come from another realm than this module's Error.
  if (typeof err !== 'object' || err === null) return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (code === 'ECONNREFUSED') return true;
  // The SDK may wrap it ("AWS SDK error wrapper for Error: connect ECONNREFUSED …").
  return typeof message === 'string' && (message.includes('connect ECONNREFUSED') || message.includes('did not establish a connection'));
}

export class DynamoBudgetLedger implements BudgetLedger {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly opts: DynamoBudgetLedgerOptions,
  ) {}

  private async send<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (neverSent(err)) throw new LedgerCallNotSent(String((err as { message?: unknown }).message));
      throw err;
    }
  }

  private key(tenantId: string, period: string): { pk: string; sk: string } {
    return { pk: `BUDGET#${tenantId}`, sk: period };
  }

  private ttl(): number {
    return Math.floor((this.opts.now ?? Date.now)() / 1000) + KEEP_SECONDS;
  }

  async change(tenantId: string, period: string, change: BudgetChange): Promise<Reservation> {
    // An unconfirmed `from` is first assumed never made; found live, it is settled at its amount.
    let live: number | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.update(tenantId, period, change, live);
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
      }
      const item = await this.read(tenantId, period, change);
      const d = decideChange((id) => holdOf(item, id), Number(item?.outstanding ?? 0), change);
      if (d.kind !== 'apply') return { admitted: d.kind === 'replay', committed: spentOf(item) };
      if (attempt >= MAX_ATTEMPTS) throw new Error('the budget account kept changing under a conditional update');
      if (d.voidFrom && change.from) {
        const held = holdOf(item, change.from.id);
        live = typeof held === 'number' ? held : undefined;
      }
    }
  }

  /**
   * One conditional UpdateItem; a failed condition throws ConditionalCheckFailedException.
   * `live`: the amount an unconfirmed `from` was found to hold.
   */
  private async update(tenantId: string, period: string, c: BudgetChange, live: number | undefined): Promise<Reservation> {
    const names: Record<string, string> = { '#ttl': 'ttl', '#o': 'outstanding', '#s': 'spent' };
    const spent = roundUsd(c.spent);
    const values: Record<string, unknown> = { ':ttl': this.ttl(), ':spent': spent };
    const conditions: string[] = [];
    const set = ['#ttl = :ttl'];
    let remove = '';
    let release = 0;
    if (c.from) {
      names['#f'] = holdAttr(c.from.id);
      if (c.from.amount === undefined) {
        // Unconfirmed: its id ends fenced whether it was made or not (see decideChange).
        set.push('#f = :void');
        values[':void'] = VOID_HOLD;
        if (live === undefined) {
          conditions.push('attribute_not_exists(#f)');
        } else {
          release = live;
          conditions.push('#f = :from');
          values[':from'] = live;
        }
      } else {
        release = roundUsd(c.from.amount);
        conditions.push('#f = :from');
        values[':from'] = release;
        remove = ' REMOVE #f';
      }
    }
    const add = c.to ? roundUsd(c.to.amount) : 0;
    if (c.to) {
      names['#t'] = holdAttr(c.to.id);
      conditions.push('attribute_not_exists(#t)');
      set.push('#t = :to');
      values[':to'] = add;
    }
    if (c.limit !== undefined && !c.force) {
      // base = outstanding - release + spent must stay below the limit, and base + add within it.
      // SET arithmetic allows one operator per operand, so the bounds are computed here instead.
      values[':below'] = roundUsd(c.limit + release - spent);
      values[':room'] = roundUsd(c.limit + release - spent - add);
      const check = '(#o < :below AND #o <= :room)';
      // A missing account holds 0: it passes only if 0 would.
      conditions.push(withinBudget(roundUsd(spent - release), add, c) ? `(attribute_not_exists(#o) OR ${check})` : check);
    }
    values[':delta'] = roundUsd(spent + add - release);
    const out = await this.send(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.opts.tableName,
          Key: this.key(tenantId, period),
          UpdateExpression: `ADD #o :delta, #s :spent SET ${set.join(', ')}${remove}`,
          ...(conditions.length > 0 ? { ConditionExpression: conditions.join(' AND ') } : {}),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'UPDATED_NEW',
        }),
      ),
    );
    return { admitted: true, committed: spentOf(out.Attributes) };
  }

  /** The attributes a change is decided on, read consistently (only after a failed condition). */
  private async read(tenantId: string, period: string, c: BudgetChange): Promise<Item> {
    const names: Record<string, string> = { '#o': 'outstanding', '#s': 'spent' };
    if (c.from) names['#f'] = holdAttr(c.from.id);
    if (c.to) names['#t'] = holdAttr(c.to.id);
    const out = await this.send(() =>
      this.doc.send(
        new GetCommand({
          TableName: this.opts.tableName,
          Key: this.key(tenantId, period),
          ConsistentRead: true,
          ProjectionExpression: Object.keys(names).join(', '),
          ExpressionAttributeNames: names,
        }),
      ),
    );
    return out.Item;
  }

  async fence(tenantId: string, period: string, id: string): Promise<number | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.send(() =>
          this.doc.send(
            new UpdateCommand({
              TableName: this.opts.tableName,
              Key: this.key(tenantId, period),
              UpdateExpression: 'SET #f = :void, #ttl = :ttl',
              ConditionExpression: 'attribute_not_exists(#f)',
              ExpressionAttributeNames: { '#f': holdAttr(id), '#ttl': 'ttl' },
              ExpressionAttributeValues: { ':void': VOID_HOLD, ':ttl': this.ttl() },
            }),
          ),
        );
        return undefined;
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
      }
      const held = holdOf(await this.read(tenantId, period, { from: { id }, spent: 0 }), id);
      if (held === VOID_HOLD) return undefined;
      if (held !== undefined) return held;
      if (attempt >= MAX_ATTEMPTS) throw new Error('the budget account kept changing under a conditional update');
    }
  }
}
