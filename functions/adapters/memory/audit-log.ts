// In-process audit trail (the embedded default), bounded so a long-running local gateway does not
// grow without limit: only the newest `maxEntries` are kept.
import { auditMatches, type AuditEntry, type AuditLog, type AuditQuery } from '../../core/ports';

const DEFAULT_AUDIT_MAX_ENTRIES = 10_000;
const DEFAULT_LIST_LIMIT = 100;

/** Newest-first order, the same as the DynamoDB sort key `<at>#<id>` read backwards. */
function newerFirst(a: AuditEntry, b: AuditEntry): number {
  const ka = `${a.at}#${a.id}`;
  const kb = `${b.at}#${b.id}`;
  return ka < kb ? 1 : ka > kb ? -1 : 0;
}

export class MemoryAuditLog implements AuditLog {
  /** Kept newest first; appends arrive almost always in order, so insertion is near the front. */
  private readonly entries: AuditEntry[] = [];

  constructor(private readonly maxEntries = DEFAULT_AUDIT_MAX_ENTRIES) {}

  async append(entry: AuditEntry): Promise<void> {
    const copy = structuredClone(entry);
    let i = 0;
    while (i < this.entries.length && newerFirst(this.entries[i]!, copy) < 0) i++;
    this.entries.splice(i, 0, copy);
    if (this.entries.length > this.maxEntries) this.entries.length = this.maxEntries;
  }

  async list(query: AuditQuery): Promise<AuditEntry[]> {
    const limit = query.limit ?? DEFAULT_LIST_LIMIT;
    const out: AuditEntry[] = [];
    for (const entry of this.entries) {
      if (out.length >= limit) break;
      if (auditMatches(entry, query)) out.push(structuredClone(entry));
    }
    return out;
  }
}
