// The date range and per-day reads the usage routes share: ?from&to (default: this UTC month up
// to now, the budget period), and a tenant's totals per UTC day in one read where the store can.
import type { UsageReader, UsageTotals } from '../core/ports';
import { invalid } from './input';
import { iso } from './services';

export const DAY_MS = 86_400_000;
export const MAX_DAYS_GROUPED = 366;
const DAY_QUERY_BATCH = 16;

export interface UsageRange {
  fromMs: number;
  toMs: number;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** A date (`2025-01-31`) or date-time with zone; a bare date means the start (from) or end (to) of that UTC day. */
export function parseIsoParam(value: string, param: 'from' | 'to'): number {
  const m = ISO_DATE.exec(value);
  const fail = () => invalid(param, 'expected an ISO 8601 date (YYYY-MM-DD) or date-time with a zone (2025-01-31T12:00:00Z)');
  if (!m) throw fail();
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Date.parse rolls 2025-02-30 over into March; check the calendar ourselves.
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) throw fail();
  const dateOnly = m[4] === undefined;
  const ms = Date.parse(dateOnly ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(ms)) throw fail();
  return dateOnly && param === 'to' ? ms + DAY_MS - 1 : ms;
}

/** The range a request asks for; 400 for a bad date or from after to. */
export function usageRange(query: URLSearchParams, nowMs: number): UsageRange {
  const fromText = query.get('from');
  const toText = query.get('to');
  const now = new Date(nowMs);
  const fromMs = fromText === null ? Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1) : parseIsoParam(fromText, 'from');
  const toMs = toText === null ? nowMs : parseIsoParam(toText, 'to');
  if (fromMs > toMs) throw invalid('from', '"from" must not be after "to"');
  return { fromMs, toMs };
}

/** The UTC days a range touches, "YYYY-MM-DD", oldest first. */
export function daysOf(range: UsageRange): string[] {
  const days: string[] = [];
  for (let dayStart = Math.floor(range.fromMs / DAY_MS) * DAY_MS; dayStart <= range.toMs; dayStart += DAY_MS) days.push(iso(dayStart).slice(0, 10));
  return days;
}

/** 400 when a per-day answer would cover more than MAX_DAYS_GROUPED days. */
export function ensureGroupableDays(range: UsageRange, param: string): void {
  if (Math.floor(range.toMs / DAY_MS) - Math.floor(range.fromMs / DAY_MS) + 1 > MAX_DAYS_GROUPED) {
    throw invalid(param, `a per-day answer covers at most ${MAX_DAYS_GROUPED} days`);
  }
}

/** A tenant's totals per UTC day of the range (days without usage absent): one read, or one per day a few at a time. */
export async function totalsPerDay(reader: UsageReader, tenantId: string, range: UsageRange): Promise<Record<string, UsageTotals>> {
  const from = iso(range.fromMs);
  const to = iso(range.toMs);
  if (reader.totalsByDay) return reader.totalsByDay(tenantId, from, to);
  const days = daysOf(range);
  const out: Record<string, UsageTotals> = {};
  // A few at a time: a year of days should not become 366 simultaneous store queries.
  for (let i = 0; i < days.length; i += DAY_QUERY_BATCH) {
    const batch = days.slice(i, i + DAY_QUERY_BATCH);
    const results = await Promise.all(batch.map((day) => reader.totals(tenantId, `${day}T00:00:00.000Z`, `${day}T23:59:59.999Z`)));
    batch.forEach((day, j) => {
      const t = results[j] as UsageTotals;
      if (t.request_count > 0 || t.cost_usd > 0) out[day] = t;
    });
  }
  return out;
}
