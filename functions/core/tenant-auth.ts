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
 * `x-api-key: <key>` (what Anthropic's SDKs send for an API key) or `Authorization: Bearer <key>`
 * (what they send for an auth token, e.g. Claude Code's ANTHROPIC_AUTH_TOKEN): Anthropic's
 * clients. `x-api-key` wins when both are sent.
 */
export const ANTHROPIC_KEY: ApiKeySource = {
  read: (headers) => headers['x-api-key']?.trim() || BEARER_KEY.read(headers),
  hint: "Send it as 'x-api-key: gw-...' or 'Authorization: Bearer gw-...'.",
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
