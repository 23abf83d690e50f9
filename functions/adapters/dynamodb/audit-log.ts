// The audit trail in the "tenants" table: pk AUDIT#<yyyy-mm> (the month of `at`), sk <at>#<id>.
// One partition per month keeps writes spread and lets a Query read newest first without an
// index. The price: list() reads only the most recent `months` partitions (current and previous
// by default), or those a `from` reaches back to (at most 13), so older history is not reachable
// through this port; it stays in the table.
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AuditEntry, AuditLog, AuditQuery } from '../../core/ports';

const DEFAULT_LIST_LIMIT = 100;
/** The most monthly partitions one listing reads (a from/to range of about a year). */
const MAX_MONTHS = 13;

/** Whole months from the month of `fromMs` to the month of `toMs` (0: the same month). */
function monthsBetween(fromMs: number, toMs: number): number {
  const a = new Date(fromMs);
  const b = new Date(toMs);
  return Math.max(0, (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + b.getUTCMonth() - a.getUTCMonth());
}

export interface DynamoAuditLogOptions {
  tableName: string;
  now?: () => number;
  /** How many monthly partitions list() reads, the current one included. */
  months?: number;
}

function toEntry(item: Record<string, unknown>): AuditEntry {
  const { pk, sk, ...entry } = item;
  if (typeof entry.id !== 'string' || typeof entry.at !== 'string') throw new Error(`malformed audit item ${String(pk)}`);
  return entry as unknown as AuditEntry;
}

/** yyyy-mm, `back` months before the month of `ms` (UTC). */
function monthOf(ms: number, back = 0): string {
  const d = new Date(ms);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - back, 1)).toISOString().slice(0, 7);
}

export class DynamoAuditLog implements AuditLog {
  private readonly now: () => number;
  private readonly months: number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly opts: DynamoAuditLogOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.months = opts.months ?? 2;
  }

  async append(entry: AuditEntry): Promise<void> {
    const ms = Date.parse(entry.at);
    if (Number.isNaN(ms)) throw new Error(`audit entry ${entry.id} has an invalid "at": ${entry.at}`);
    await this.doc.send(
      new PutCommand({
        TableName: this.opts.tableName,
        Item: { ...entry, pk: `AUDIT#${monthOf(ms)}`, sk: `${entry.at}#${entry.id}` },
      }),
    );
  }

  /**
   * The months from `to`'s (or now's) back to `from`'s, newest first, each read backwards within
   * the sort-key range `from`..`to`; without `from`, the most recent `months` partitions.
   */
  async list(query: AuditQuery): Promise<AuditEntry[]> {
    const limit = query.limit ?? DEFAULT_LIST_LIMIT;
    const entries: AuditEntry[] = [];
    const lastMs = query.to === undefined ? this.now() : Math.min(Date.parse(query.to), this.now());
    const partitions = query.from === undefined ? this.months : Math.min(MAX_MONTHS, monthsBetween(Date.parse(query.from), lastMs) + 1);
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':lo': query.from ?? '0000', ':hi': `${query.to ?? '9999'}\uffff` };
    const filters: string[] = [];
    for (const [field, value] of [
      ['tenant_id', query.tenant_id],
      ['actor', query.actor],
      ['action', query.action],
    ] as const) {
      if (value === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      filters.push(`#${field} = :${field}`);
    }
    for (let back = 0; back < partitions && entries.length < limit; back++) {
      let start: Record<string, unknown> | undefined;
      do {
        const out = await this.doc.send(
          new QueryCommand({
            TableName: this.opts.tableName,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
            ScanIndexForward: false,
            // Limit counts items before the filter, so a filtered read may need several pages.
            Limit: Math.max(limit - entries.length, filters.length === 0 ? 1 : 100),
            ExpressionAttributeValues: { ...values, ':pk': `AUDIT#${monthOf(lastMs, back)}` },
            ...(filters.length > 0 ? { FilterExpression: filters.join(' AND '), ExpressionAttributeNames: names } : {}),
            ExclusiveStartKey: start,
          }),
        );
        for (const item of out.Items ?? []) entries.push(toEntry(item));
        start = out.LastEvaluatedKey;
      } while (start && entries.length < limit);
    }
    return entries.slice(0, limit);
  }
}
