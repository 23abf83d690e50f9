// Tenants the gateway starts with or creates: the documented local default tenant, and the
// limits a tenant created through the admin API gets when its creation does not set them.
import * as v from 'valibot';
import { boolean, nonNegativeInt, nonNegativeNumber, readEnv, type Env } from './env';

/** A new tenant's limits unless its creation sets them (0: unlimited / no budget). */
export interface TenantDefaults {
  rate_limit_rpm: number;
  rate_limit_tpm: number;
  budget_usd: number;
}

export interface TenantSettings {
  /** Whether the documented local key gw-default-key works (never in a deployed stack). */
  defaultTenantEnabled: boolean;
  /** Limits a tenant created through the admin API gets when the request does not set them. */
  tenantDefaults: TenantDefaults;
}

const TenantEnv = v.object({
  DEFAULT_TENANT_ENABLED: v.optional(boolean, 'true'),
  TENANT_DEFAULT_RPM: v.optional(nonNegativeInt(), '0'),
  TENANT_DEFAULT_TPM: v.optional(nonNegativeInt(), '0'),
  TENANT_DEFAULT_BUDGET_USD: v.optional(nonNegativeNumber('no budget'), '1000'),
});

export function loadTenantSettings(env: Env): TenantSettings {
  const e = readEnv(env, TenantEnv);
  return {
    defaultTenantEnabled: e.DEFAULT_TENANT_ENABLED,
    tenantDefaults: { rate_limit_rpm: e.TENANT_DEFAULT_RPM, rate_limit_tpm: e.TENANT_DEFAULT_TPM, budget_usd: e.TENANT_DEFAULT_BUDGET_USD },
  };
}
