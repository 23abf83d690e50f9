// Tenant CRUD and key rotation.
import { StoreConflictError, type TenantRecord } from '../core/ports';
import { randomBytes } from 'node:crypto';
import { recordAudit } from './audit';
import { budgetUsedPct } from '../core/usage-totals';
import { invalid, nonNegativeInt, optionalObject, rejectUnknown } from './input';
import { hasPermission, missingPermission } from './rbac';
import { generateApiKey, liveKeys } from './keys';
import { json, list, noContent } from './responses';
import { iso, type AdminServices, type RouteHandler } from './services';
import { applyPatch, newTenant, parseTenantCreate, parseTenantUpdate, slugify, TENANT_ID_PATTERN } from './tenant-input';
import { conflict, mutateTenant, tenantNotFound } from './tenant-write';
import { tenantView } from './views';

/** Longest grace period a rotated-out key may keep working. */
const MAX_GRACE_SECONDS = 30 * 24 * 3600;

const GENERATED_ID_ATTEMPTS = 3;
/** Tenants whose month is read at once for ?with=spend. */
const SPEND_BATCH = 16;

/** Path ids that cannot be tenant ids are 404 without a store round-trip. */
function tenantIdParam(params: Record<string, string>): string {
  const id = params.id ?? '';
  if (!TENANT_ID_PATTERN.test(id)) throw tenantNotFound(id);
  return id;
}

/** `my-service-k3x9q2`: readable, slug-safe, and unlikely to collide. */
function generateTenantId(name: string): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const suffix = Array.from(randomBytes(6), (b) => alphabet.charAt(b % alphabet.length)).join('');
  const slug = slugify(name);
  return slug === '' ? `t-${suffix}` : `${slug}-${suffix}`;
}

/** `?with=spend`: each tenant also gets this UTC month's spend and budget use, as GET /v1/usage reports them (needs usage:read). */
export const listTenants: RouteHandler = async (s, { query, principal }) => {
  const withSpend = parseWith(query);
  if (withSpend && !hasPermission(principal.role, 'usage:read')) throw missingPermission(principal, 'usage:read');
  const nowMs = s.now();
  const records = await s.tenants.list();
  records.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const views = records.map((r) => tenantView(r, nowMs));
  if (!withSpend) return json(200, list(views));
  const spend = await monthSpend(s, records, nowMs);
  return json(
    200,
    list(views.map((v, i) => ({ ...v, spend_usd_month: spend[i] as number, budget_used_pct: budgetUsedPct(spend[i] as number, v.budget_usd) }))),
  );
};

function parseWith(query: URLSearchParams): boolean {
  const value = query.get('with');
  if (value === null) return false;
  if (value !== 'spend') throw invalid('with', 'expected "spend"');
  return true;
}

/** Each tenant's cost this UTC month up to now, a few tenants at a time; 0 without a usage store. */
async function monthSpend(s: AdminServices, records: readonly TenantRecord[], nowMs: number): Promise<number[]> {
  const reader = s.usage;
  if (!reader) return records.map(() => 0);
  const now = new Date(nowMs);
  const from = iso(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const to = iso(nowMs);
  const out: number[] = [];
  for (let i = 0; i < records.length; i += SPEND_BATCH) {
    const batch = records.slice(i, i + SPEND_BATCH);
    out.push(...(await Promise.all(batch.map(async (r) => (await reader.totals(r.id, from, to)).cost_usd))));
  }
  return out;
}

export const getTenant: RouteHandler = async (s, { params }) => {
  const id = tenantIdParam(params);
  const record = await s.tenants.get(id);
  if (!record) throw tenantNotFound(id);
  return json(200, tenantView(record, s.now()));
};

export const createTenant: RouteHandler = async (s, { body, principal }) => {
  const input = parseTenantCreate(body, s.providerNames);
  const nowMs = s.now();
  const at = iso(nowMs);
  const { key, record: keyRecord } = generateApiKey(at);
  for (let attempt = 1; ; attempt++) {
    const id = input.id ?? generateTenantId(input.patch.name);
    const record: TenantRecord = { ...newTenant(id, input.patch, s.tenantDefaults), created_at: at, updated_at: at, keys: [keyRecord], version: 1 };
    try {
      await s.tenants.create(record);
    } catch (err) {
      if (!(err instanceof StoreConflictError)) throw err;
      if (input.id !== undefined) throw conflict(`Tenant "${id}" already exists.`, 'id');
      if (attempt >= GENERATED_ID_ATTEMPTS) throw conflict('Could not allocate a unique tenant id; retry the request.');
      continue;
    }
    await recordAudit(s, principal, 'tenant.create', { tenant_id: id, details: { fields: Object.keys(input.patch).sort() } });
    // The plaintext key appears here and in rotate-key responses only.
    return json(201, { ...tenantView(record, nowMs), api_key: key });
  }
};

export const updateTenant: RouteHandler = async (s, { params, body, principal }) => {
  const id = tenantIdParam(params);
  const patch = parseTenantUpdate(body, id, s.providerNames);
  let changed: string[] = [];
  const { record, written } = await mutateTenant(s, id, (current, nowMs) => {
    const applied = applyPatch(current, patch);
    changed = applied.changed;
    // Keys past their grace period no longer work; drop them while writing anyway.
    return changed.length === 0 ? null : { ...applied.tenant, keys: liveKeys(current.keys, nowMs) };
  });
  if (written) await recordAudit(s, principal, 'tenant.update', { tenant_id: id, details: { changed } });
  return json(200, tenantView(record, s.now()));
};

export const deleteTenant: RouteHandler = async (s, { params, principal }) => {
  const id = tenantIdParam(params);
  if (!(await s.tenants.delete(id))) throw tenantNotFound(id);
  await recordAudit(s, principal, 'tenant.delete', { tenant_id: id });
  return noContent();
};

/**
 * New key works at once. With grace_seconds > 0 the tenant's current keys keep working until
 * now + grace (an earlier expiry is kept); with 0 (the default) they stop at once.
 */
export const rotateTenantKey: RouteHandler = async (s, { params, body, principal }) => {
  const id = tenantIdParam(params);
  const obj = optionalObject(body);
  rejectUnknown(obj, ['grace_seconds']);
  const graceSeconds = obj.grace_seconds === undefined ? 0 : nonNegativeInt(obj, 'grace_seconds', MAX_GRACE_SECONDS);
  let key = ''; // set by the (last) mutate call, whose record is the one written
  const { record } = await mutateTenant(s, id, (current, nowMs) => {
    const fresh = generateApiKey(iso(nowMs));
    key = fresh.key;
    const graceEnd = nowMs + graceSeconds * 1000;
    const kept =
      graceSeconds === 0
        ? []
        : liveKeys(current.keys, nowMs).map((k) => {
            const expiresAt = k.expires_at === undefined ? graceEnd : Math.min(Date.parse(k.expires_at), graceEnd);
            return { ...k, expires_at: iso(expiresAt) };
          });
    return { ...current, keys: [...kept, fresh.record] };
  });
  await recordAudit(s, principal, 'tenant.rotate_key', { tenant_id: id, details: { grace_seconds: graceSeconds } });
  return json(200, { ...tenantView(record, s.now()), api_key: key });
};
