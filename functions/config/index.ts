// functions/config — the gateway's settings: environment variables and the optional GATEWAY_CONFIG
// routing document, parsed with valibot, one module per concern. Every bad value fails at start with
// one line naming its variable or field (unknown document keys by their path). Consumers, the core
// included, take the type of the concern they need (RoutingSettings, StoreSettings, …). Reading the
// secrets themselves belongs in adapters/aws/: only their ARNs are settings.
import { loadAdminSettings, type AdminSettings } from './admin';
import { loadCooldownSettings, type CooldownSettings } from './cooldowns';
import type { Env } from './env';
import { loadProviderSettings, type ProviderSettings } from './providers';
import { resolveNamedProviders, type NamedProviderSettings } from './named-providers';
import { loadRoutingSettings, type RoutingSettings } from './routing-file';
import { ConfigError } from './error';
import { providerNames } from '../core/provider-names';
import { loadSecretSettings, type SecretSettings } from './secrets';
import { loadServerSettings, type ServerSettings } from './server';
import { loadStoreSettings, type StoreSettings } from './stores';
import { loadTenantSettings, type TenantSettings } from './tenants';
import { loadUsageSettings, type UsageSettings } from './usage';
import { loadOtlpSettings, type OtlpSettings } from './otlp';
import { loadTelemetrySettings, type TelemetrySettings } from './telemetry';

export { ConfigError } from './error';
export type { Env } from './env';
export type { AdminSettings } from './admin';
export type { CooldownSettings } from './cooldowns';
export { BUILT_IN_PROVIDERS, type BuiltInProviderName, type ProviderSettings } from './providers';
export { keyVariable, requireProviderKeys } from './named-providers';
export type {
  NamedProvider,
  NamedProviderEntry,
  NamedProviderSettings,
  ProviderEntry,
} from './named-providers';
export {
  DEFAULT_BREAKER,
  parseRoutingJson,
  type BreakerSettings,
  type FallbackSettings,
  type PriceOverride,
  type Route,
  type RouteStrategy,
  type RouteTarget,
  type RoutingFile,
  type RoutingSettings,
} from './routing-file';
export type { SecretSettings } from './secrets';
export type { LogLevel, ServerSettings } from './server';
export type { DatabaseSettings, StoreFailureMode, StoreSettings } from './stores';
export type { TenantDefaults, TenantSettings } from './tenants';
export type { UsageSettings } from './usage';
export type { OtlpExport, OtlpProtocol, OtlpSettings } from './otlp';
export type { TelemetrySettings } from './telemetry';

export interface GatewayConfig
  extends ServerSettings,
    ProviderSettings,
    RoutingSettings,
    CooldownSettings,
    NamedProviderSettings,
    StoreSettings,
    UsageSettings,
    SecretSettings,
    AdminSettings,
    TenantSettings,
    TelemetrySettings,
    OtlpSettings {}

/** Parses the environment; `readText` loads the GATEWAY_CONFIG file (kept injectable for tests). */
export function loadConfig(env: Env, readText: (path: string) => string, version = '0.0.0'): GatewayConfig {
  const providers = loadProviderSettings(env);
  const routing = loadRoutingSettings(env, readText);
  const secrets = loadSecretSettings(env);
  const names = providerNames(routing.routing);
  if (!names.includes(providers.defaultProvider)) {
    throw new ConfigError(`DEFAULT_PROVIDER must be one of ${names.join(', ')}; got "${env.DEFAULT_PROVIDER}"`);
  }
  // With a provider secret (the deployed stack) the keys named by api_key_env are that secret's fields.
  const namedProviders = resolveNamedProviders(routing.routing.providers, env, secrets.secrets.providerSecretArn !== undefined);
  return {
    ...loadServerSettings(env, version),
    ...providers,
    ...routing,
    ...loadCooldownSettings(env),
    namedProviders,
    ...loadStoreSettings(env),
    ...loadTenantSettings(env),
    ...loadAdminSettings(env),
    ...loadUsageSettings(env),
    ...loadTelemetrySettings(env),
    ...loadOtlpSettings(env),
    ...secrets,
  };
}
