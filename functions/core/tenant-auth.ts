// The tenant API's authentication: the request's key → its tenant. Every /v1 route starts here.
import type { ApiRequest } from './api-types';
import { GatewayError, unauthorized } from './errors';
import type { Tenant, TenantStore } from './ports';
import { hashApiKey } from './tenants';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Where a client API's requests carry the tenant's key. */
export interface ApiKeySource {
  /** The key the request presents, if any. */
  read(headers: ApiRequest['headers']): string | undefined;
  /** How to send it, told to a client that sent none. */
  readonly hint: string;
}

/** `Authorization: Bearer <key>`: OpenAI's clients, and every route that names no other place. */
export const BEARER_KEY: ApiKeySource = {
  read: (headers) => {
    const header = headers.authorization;
    return header ? BEARER.exec(header)?.[1] : undefined;
  },
  hint: "Send it as 'Authorization: Bearer gw-...'.",
};

/**
 * `x-api-key: <key>` (Anthropic's SDKs), else `Authorization: Bearer <key>` (Claude Code with
 * ANTHROPIC_AUTH_TOKEN, and Anthropic's SDK given an auth token).
 */
export const ANTHROPIC_KEY: ApiKeySource = {
  read: (headers) => {
    const key = headers['x-api-key']?.trim();
    return key ? key : BEARER_KEY.read(headers);
  },
  hint: 'Send it in the x-api-key header, or as a Bearer token in the Authorization header.',
};

/** The request's key → tenant, looked up by the key's hash; 401 missing or unknown, 403 disabled. */
export async function authenticateTenant(tenants: TenantStore, req: Pick<ApiRequest, 'headers'>, source: ApiKeySource = BEARER_KEY): Promise<Tenant> {
  const key = source.read(req.headers);
  if (!key) throw unauthorized(`You didn't provide an API key. ${source.hint}`);
  const tenant = await tenants.findByKeyHash(hashApiKey(key));
  if (!tenant) throw unauthorized('Incorrect API key provided.');
  if (!tenant.enabled) throw new GatewayError(403, `Tenant "${tenant.id}" is disabled.`, { type: 'permission_error', code: 'tenant_disabled' });
  return tenant;
}
