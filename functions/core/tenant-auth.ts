// The tenant API's authentication: the request's key → its tenant. Every /v1 route starts here.
import type { ApiRequest } from './api-types';
import { GatewayError, unauthorized } from './errors';
import type { Tenant, TenantStore } from './ports';
import { hashApiKey } from './tenants';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** `Authorization: Bearer <key>` → tenant, looked up by the key's hash; 401 unknown, 403 disabled. */
export async function authenticateTenant(tenants: TenantStore, req: Pick<ApiRequest, 'headers'>): Promise<Tenant> {
  const header = req.headers.authorization;
  const match = header ? BEARER.exec(header) : null;
  if (!match?.[1]) {
    throw unauthorized("You didn't provide an API key. Send it as 'Authorization: Bearer gw-...'.");
  }
  const tenant = await tenants.findByKeyHash(hashApiKey(match[1]));
  if (!tenant) throw unauthorized('Incorrect API key provided.');
  if (!tenant.enabled) throw new GatewayError(403, `Tenant "${tenant.id}" is disabled.`, { type: 'permission_error', code: 'tenant_disabled' });
  return tenant;
}
