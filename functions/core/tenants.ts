import { createHash } from 'node:crypto';
import type { Tenant } from './ports';

/** The local default tenant and key, as documented in the quick start. */
export const DEFAULT_TENANT_KEY = 'gw-default-key';

export const DEFAULT_TENANT: Tenant = {
  id: 'default',
  name: 'default',
  enabled: true,
  rate_limit_rpm: 0,
  rate_limit_tpm: 0,
  budget_usd: 1000,
  allow_overage: false,
  allowed_models: [],
};

/** Keys are stored and looked up only by their SHA-256 hash. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
