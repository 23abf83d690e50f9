// GET /admin/tenants/{id}/usage?from&to&group_by=day|model: a tenant's usage for a range.
// UsageReader answers totals for a range, overall, per model or per day.
import { emptyTotals } from '../core/usage-totals';
import { invalid } from './input';
import { json } from './responses';
import { iso, type RouteHandler } from './services';
import { TENANT_ID_PATTERN } from './tenant-input';
import { tenantNotFound } from './tenant-write';
import { daysOf, ensureGroupableDays, totalsPerDay, usageRange } from './usage-range';

export { parseIsoParam } from './usage-range';

export const tenantUsage: RouteHandler = async (s, { params, query }) => {
  const id = params.id ?? '';
  const range = usageRange(query, s.now());
  const groupBy = query.get('group_by');
  if (groupBy !== null && groupBy !== 'day' && groupBy !== 'model') throw invalid('group_by', 'expected "day" or "model"');
  if (groupBy === 'day') ensureGroupableDays(range, 'group_by');
  if (!TENANT_ID_PATTERN.test(id) || !(await s.tenants.get(id))) throw tenantNotFound(id);

  const from = iso(range.fromMs);
  const to = iso(range.toMs);
  const base = { object: 'tenant.usage', tenant_id: id, from, to };
  const reader = s.usage;
  if (!reader) {
    return json(200, { ...base, group_by: null, totals: emptyTotals(), note: 'No usage store is configured.' });
  }
  const totals = await reader.totals(id, from, to);
  if (groupBy === 'day') {
    const perDay = await totalsPerDay(reader, id, range);
    return json(200, { ...base, group_by: 'day', totals, groups: daysOf(range).map((day) => ({ day, ...(perDay[day] ?? emptyTotals()) })) });
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
