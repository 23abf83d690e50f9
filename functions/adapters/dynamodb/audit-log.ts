// The audit trail in the "tenants" table: pk AUDIT#<yyyy-mm> (the month of `at`), sk <at>#<id>.
// One partition per month keeps writes spread and lets a Query read newest first without an
// index. The price: list() reads only the most recent `months` partitions (current and previous
// by default), so older history is not reachable through this port; it stays in the table.
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AuditEntry, AuditLog } from '../../core/ports';

const DEFAULT_LIST_LIMIT = 100;

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

  async list(query: { tenant_id?: string; limit?: number }): Promise<AuditEntry[]> {
    const limit = query.limit ?? DEFAULT_LIST_LIMIT;
    const entries: AuditEntry[] = [];
    const nowMs = this.now();
    for (let back = 0; back < this.months && entries.length < limit; back++) {
      let start: Record<string, unknown> | undefined;
      do {
        const out = await this.doc.send(
          new QueryCommand({
            TableName: this.opts.tableName,
            KeyConditionExpression: 'pk = :pk',
            ScanIndexForward: false,
            // Limit counts items before the filter, so a filtered read may need several pages.
            Limit: Math.max(limit - entries.length, query.tenant_id === undefined ? 1 : 100),
            ...(query.tenant_id === undefined
              ? { ExpressionAttributeValues: { ':pk': `AUDIT#${monthOf(nowMs, back)}` } }
              : { FilterExpression: 'tenant_id = :t', ExpressionAttributeValues: { ':pk': `AUDIT#${monthOf(nowMs, back)}`, ':t': query.tenant_id } }),
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
