// GET /admin/tenants/{id}/usage?from&to&group_by=day|model: a tenant's usage for a range.
// UsageReader answers totals for a range, overall or per model; group_by=day asks it once per day.
import type { UsageReader, UsageTotals } from '../core/ports';
import { emptyTotals } from '../core/usage-totals';
import { invalid } from './input';
import { json } from './responses';
import { iso, type RouteHandler } from './services';
import { TENANT_ID_PATTERN } from './tenant-input';
import { tenantNotFound } from './tenant-write';

const MAX_DAYS_GROUPED = 366;
const DAY_MS = 86_400_000;
const DAY_QUERY_BATCH = 16;

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

export const tenantUsage: RouteHandler = async (s, { params, query }) => {
  const id = params.id ?? '';
  const nowMs = s.now();
  const fromText = query.get('from');
  const toText = query.get('to');
  const groupBy = query.get('group_by');
  // Default range: the current calendar month (UTC) up to now, the budget period.
  const now = new Date(nowMs);
  const fromMs = fromText === null ? Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1) : parseIsoParam(fromText, 'from');
  const toMs = toText === null ? nowMs : parseIsoParam(toText, 'to');
  if (fromMs > toMs) throw invalid('from', '"from" must not be after "to"');
  if (groupBy !== null && groupBy !== 'day' && groupBy !== 'model') throw invalid('group_by', 'expected "day" or "model"');
  if (groupBy === 'day' && Math.floor(toMs / DAY_MS) - Math.floor(fromMs / DAY_MS) + 1 > MAX_DAYS_GROUPED) {
    throw invalid('group_by', `group_by=day covers at most ${MAX_DAYS_GROUPED} days`);
  }
  if (!TENANT_ID_PATTERN.test(id) || !(await s.tenants.get(id))) throw tenantNotFound(id);

  const from = iso(fromMs);
  const to = iso(toMs);
  const base = { object: 'tenant.usage', tenant_id: id, from, to };
  const reader = s.usage;
  if (!reader) {
    return json(200, { ...base, group_by: null, totals: emptyTotals(), note: 'No usage store is configured.' });
  }
  const totals = await reader.totals(id, from, to);
  if (groupBy === 'day') {
    return json(200, { ...base, group_by: 'day', totals, groups: await byDay(reader, id, fromMs, toMs) });
  }
  if (groupBy === 'model') {
    const models = await reader.totalsByModel(id, from, to);
    const groups = Object.entries(models)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([model, t]) => ({ model, ...t }));
    return json(200, { ...base, group_by: 'model', totals, groups });
  }
  return json(200, { ...base, group_by: null, totals });
};

async function byDay(reader: UsageReader, id: string, fromMs: number, toMs: number): Promise<Array<{ day: string } & UsageTotals>> {
  const ranges: Array<{ day: string; from: string; to: string }> = [];
  for (let dayStart = Math.floor(fromMs / DAY_MS) * DAY_MS; dayStart <= toMs; dayStart += DAY_MS) {
    ranges.push({ day: iso(dayStart).slice(0, 10), from: iso(Math.max(fromMs, dayStart)), to: iso(Math.min(toMs, dayStart + DAY_MS - 1)) });
  }
  const out: Array<{ day: string } & UsageTotals> = [];
  // A few at a time: a year of days should not become 366 simultaneous store queries.
  for (let i = 0; i < ranges.length; i += DAY_QUERY_BATCH) {
    const batch = ranges.slice(i, i + DAY_QUERY_BATCH);
    const results = await Promise.all(batch.map((r) => reader.totals(id, r.from, r.to)));
    batch.forEach((r, j) => out.push({ day: r.day, ...(results[j] as UsageTotals) }));
  }
  return out;
}
