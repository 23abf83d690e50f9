// Version-conditional read-modify-write of one tenant record. A lost race (StoreConflictError)
// re-reads and re-applies the change, up to MAX_RETRIES times, then answers 409.
import { StoreConflictError, type TenantRecord } from '../core/ports';
import { GatewayError, notFound } from '../core/errors';
import { iso, type AdminServices } from './services';

const MAX_RETRIES = 3;

export const conflict = (message: string, param: string | null = null): GatewayError =>
  new GatewayError(409, message, { type: 'invalid_request_error', param, code: 'conflict' });

export const tenantNotFound = (id: string): GatewayError => notFound(`Tenant "${id}" does not exist.`);

/**
 * `mutate` returns the changed record (without version/updated_at, which are set here) or null
 * for "nothing to change". Resolves to the stored record and whether a write happened.
 */
export async function mutateTenant(
  s: AdminServices,
  id: string,
  mutate: (current: TenantRecord, nowMs: number) => TenantRecord | null,
): Promise<{ record: TenantRecord; written: boolean }> {
  for (let attempt = 0; attempt <= MAX_RETRIES; attempt++) {
    const current = await s.tenants.get(id);
    if (!current) throw tenantNotFound(id);
    const nowMs = s.now();
    const changed = mutate(current, nowMs);
    if (changed === null) return { record: current, written: false };
    const next: TenantRecord = { ...changed, id: current.id, created_at: current.created_at, updated_at: iso(nowMs), version: current.version + 1 };
    try {
      if (!(await s.tenants.update(next))) throw tenantNotFound(id);
      return { record: next, written: true };
    } catch (err) {
      if (!(err instanceof StoreConflictError)) throw err;
      s.logger.debug('tenant update lost a race; retrying', { tenant_id: id, attempt });
    }
  }
  throw conflict(`Tenant "${id}" was changed concurrently too many times; retry the request.`);
}
