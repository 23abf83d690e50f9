// GET /admin/tenants/{id}/alerts?limit: the budget alerts sent for a tenant, newest first, as the
// alert claims record them (one per month and threshold crossed).
import { invalid } from './input';
import { json, list } from './responses';
import type { RouteHandler } from './services';
import { TENANT_ID_PATTERN } from './tenant-input';
import { tenantNotFound } from './tenant-write';

const DEFAULT_LIMIT = 24;
const MAX_LIMIT = 200;

export const tenantAlerts: RouteHandler = async (s, { params, query }) => {
  const id = params.id ?? '';
  const limitText = query.get('limit');
  const limit = limitText === null ? DEFAULT_LIMIT : /^\d{1,4}$/.test(limitText) ? Number(limitText) : NaN;
  if (!(limit >= 1 && limit <= MAX_LIMIT)) throw invalid('limit', `expected an integer between 1 and ${MAX_LIMIT}`);
  const tenant = TENANT_ID_PATTERN.test(id) ? await s.tenants.get(id) : null;
  if (!tenant) throw tenantNotFound(id);
  const claims = s.alertClaims ? await s.alertClaims.list(id, limit) : [];
  return json(200, {
    ...list(claims.map((c) => ({ object: 'tenant.alert', tenant_id: id, period: c.period, threshold_pct: c.threshold_pct, sent_at: c.claimed_at }))),
    budget_usd: tenant.budget_usd,
  });
};
