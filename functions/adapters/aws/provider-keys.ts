// The provider API keys secret: one JSON object, {"OPENAI_API_KEY": "...", "ANTHROPIC_API_KEY": "..."},
// where an empty string means "not configured". The keys go into the gateway's config the way
// the same environment variables would. A named provider's key is the field its `api_key_env`
// names ({"GROQ_API_KEY": "..."}): in the deployed stack that field is the only place it is read
// from (a plain Lambda environment variable would show the key to anyone who can read the function).
import { keyVariable, type NamedProviderSettings, type ProviderSettings } from '../../config';
import type { Logger } from '../../core/logger';
import { CachedSecret, createSecretsClient, parseSecretJson, SecretFormatError, type SecretsClient } from './secrets';

export interface ProviderKeys {
  openai?: string;
  anthropic?: string;
  /** Named providers' keys by their `api_key_env` field; absent when none is set. */
  named?: Record<string, string>;
}

/** Secret field → provider config section. */
const FIELDS = { OPENAI_API_KEY: 'openai', ANTHROPIC_API_KEY: 'anthropic' } as const;

/** `namedFields`: the fields named providers' `api_key_env` name (see `namedKeyFields`). */
export function parseProviderKeys(text: string, namedFields: readonly string[] = []): ProviderKeys {
  const json = parseSecretJson(text, 'provider keys');
  const keys: ProviderKeys = {};
  for (const [field, provider] of Object.entries(FIELDS)) {
    const value = stringField(json, field);
    if (value !== undefined) keys[provider] = value;
  }
  for (const field of namedFields) {
    const value = stringField(json, field);
    if (value !== undefined) keys.named = { ...keys.named, [field]: value };
  }
  return keys;
}

/** A field's trimmed text; undefined when absent, null or empty. */
function stringField(json: Record<string, unknown>, field: string): string | undefined {
  const value = Object.hasOwn(json, field) ? json[field] : undefined;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new SecretFormatError(`provider keys: ${field} must be a string`);
  return value.trim() === '' ? undefined : value.trim();
}

/** The secret fields the named providers' keys are read from. */
export function namedKeyFields(config: NamedProviderSettings): string[] {
  return [...new Set(config.namedProviders.map(keyVariable).filter((field): field is string => field !== undefined))];
}

export function sameProviderKeys(a: ProviderKeys, b: ProviderKeys): boolean {
  const fields = new Set([...Object.keys(a.named ?? {}), ...Object.keys(b.named ?? {})]);
  return a.openai === b.openai && a.anthropic === b.anthropic && [...fields].every((f) => a.named?.[f] === b.named?.[f]);
}

/**
 * The config with the secret's keys in place of any from the environment (an empty field leaves
 * the environment's), and each named provider's key from its field.
 */
export function withProviderKeys<TConfig extends Pick<ProviderSettings, 'openai' | 'anthropic'> & Partial<NamedProviderSettings>>(
  config: TConfig,
  keys: ProviderKeys,
): TConfig {
  const withKeys: TConfig = {
    ...config,
    openai: { ...config.openai, apiKey: keys.openai ?? config.openai.apiKey },
    anthropic: { ...config.anthropic, apiKey: keys.anthropic ?? config.anthropic.apiKey },
  };
  if (config.namedProviders) {
    withKeys.namedProviders = config.namedProviders.map((p) => {
      const field = keyVariable(p);
      const key = field === undefined ? undefined : keys.named?.[field];
      return key === undefined ? p : { ...p, apiKey: key };
    });
  }
  return withKeys;
}

/** Which providers have a key, for log lines (names only: built-in providers, then named keys' fields). */
export function keyedProviders(keys: ProviderKeys): string[] {
  return [...Object.values(FIELDS).filter((p) => keys[p] !== undefined), ...Object.keys(keys.named ?? {})];
}

/** The provider keys secret, cached with its refresh interval. */
export function providerKeysSecret(opts: {
  secretId: string;
  /** The fields named providers' keys are in (`namedKeyFields`). */
  namedFields?: readonly string[];
  refreshMs: number;
  logger: Logger;
  client?: () => Promise<SecretsClient>;
  now?: () => number;
}): CachedSecret<ProviderKeys> {
  return new CachedSecret<ProviderKeys>({
    secretId: opts.secretId,
    label: 'provider keys',
    client: opts.client ?? createSecretsClient,
    parse: (text) => parseProviderKeys(text, opts.namedFields),
    equals: sameProviderKeys,
    refreshMs: opts.refreshMs,
    logger: opts.logger,
    now: opts.now,
  });
}
