// The provider API keys secret: one JSON object, {"OPENAI_API_KEY": "...", "ANTHROPIC_API_KEY": "..."},
// where an empty string means "not configured". The keys go into the gateway's config the way
// the same environment variables would.
import type { ProviderSettings } from '../../config';
import type { Logger } from '../../core/logger';
import { CachedSecret, createSecretsClient, parseSecretJson, SecretFormatError, type SecretsClient } from './secrets';

export interface ProviderKeys {
  openai?: string;
  anthropic?: string;
}

/** Secret field → provider config section. */
const FIELDS = { OPENAI_API_KEY: 'openai', ANTHROPIC_API_KEY: 'anthropic' } as const;

export function parseProviderKeys(text: string): ProviderKeys {
  const json = parseSecretJson(text, 'provider keys');
  const keys: ProviderKeys = {};
  for (const [field, provider] of Object.entries(FIELDS)) {
    const value = json[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') throw new SecretFormatError(`provider keys: ${field} must be a string`);
    if (value.trim() !== '') keys[provider] = value.trim();
  }
  return keys;
}

export function sameProviderKeys(a: ProviderKeys, b: ProviderKeys): boolean {
  return a.openai === b.openai && a.anthropic === b.anthropic;
}

/** The config with the secret's keys in place of any from the environment; an empty field leaves the environment's. */
export function withProviderKeys<TConfig extends Pick<ProviderSettings, 'openai' | 'anthropic'>>(config: TConfig, keys: ProviderKeys): TConfig {
  return {
    ...config,
    openai: { ...config.openai, apiKey: keys.openai ?? config.openai.apiKey },
    anthropic: { ...config.anthropic, apiKey: keys.anthropic ?? config.anthropic.apiKey },
  };
}

/** Which providers have a key, for log lines (names only). */
export function keyedProviders(keys: ProviderKeys): string[] {
  return Object.values(FIELDS).filter((p) => keys[p] !== undefined);
}

/** The provider keys secret, cached with its refresh interval. */
export function providerKeysSecret(opts: {
  secretId: string;
  refreshMs: number;
  logger: Logger;
  client?: () => Promise<SecretsClient>;
  now?: () => number;
}): CachedSecret<ProviderKeys> {
  return new CachedSecret<ProviderKeys>({
    secretId: opts.secretId,
    label: 'provider keys',
    client: opts.client ?? createSecretsClient,
    parse: parseProviderKeys,
    equals: sameProviderKeys,
    refreshMs: opts.refreshMs,
    logger: opts.logger,
    now: opts.now,
  });
}
