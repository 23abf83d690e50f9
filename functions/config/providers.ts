// The upstream providers: keys and base URLs from the environment, the default provider, and
// the limits on waiting for and reading an upstream's answer.
import * as v from 'valibot';
import { baseUrl, MAX_TIMEOUT_SECONDS, positiveInt, readEnv, type Env } from './env';

export { BUILT_IN_PROVIDERS, type BuiltInProviderName } from '../core/provider-names';

export interface ProviderSettings {
  openai: { apiKey?: string; baseUrl: string; explicitBaseUrl: boolean };
  anthropic: { apiKey?: string; baseUrl: string; explicitBaseUrl: boolean };
  /** Bedrock is configured when a region is known; credentials come from the AWS SDK's default chain. */
  bedrock: { region?: string };
  ollama: { baseUrl: string };
  /** DEFAULT_PROVIDER, in lower case: a built-in or named provider (loadConfig checks it names one). */
  defaultProvider: string;
  /** MAX_RESPONSE_BYTES: cap on a provider's sync answer and on one stream event (over it: retryable 502). */
  maxResponseBytes: number;
  upstreamTimeoutMs: number;
  /** No new fallback attempt starts after this long since the request began. */
  requestDeadlineMs: number;
}

const ProviderEnv = v.object({
  DEFAULT_PROVIDER: v.optional(v.pipe(v.string(), v.toLowerCase()), 'ollama'),
  OPENAI_API_KEY: v.optional(v.string()),
  OPENAI_BASE_URL: v.optional(baseUrl),
  ANTHROPIC_API_KEY: v.optional(v.string()),
  ANTHROPIC_BASE_URL: v.optional(baseUrl),
  OLLAMA_BASE_URL: v.optional(baseUrl, 'http://localhost:11434'),
  AWS_REGION: v.optional(v.string()),
  AWS_DEFAULT_REGION: v.optional(v.string()),
  MAX_RESPONSE_BYTES: v.optional(positiveInt(256 * 1024 * 1024), String(32 * 1024 * 1024)),
  UPSTREAM_TIMEOUT: v.optional(positiveInt(MAX_TIMEOUT_SECONDS), '120'),
  REQUEST_DEADLINE: v.optional(positiveInt(MAX_TIMEOUT_SECONDS), '180'),
});

export function loadProviderSettings(env: Env): ProviderSettings {
  const e = readEnv(env, ProviderEnv);
  return {
    openai: {
      apiKey: e.OPENAI_API_KEY,
      baseUrl: e.OPENAI_BASE_URL ?? 'https://api.openai.com/v1',
      explicitBaseUrl: e.OPENAI_BASE_URL !== undefined,
    },
    anthropic: {
      apiKey: e.ANTHROPIC_API_KEY,
      baseUrl: e.ANTHROPIC_BASE_URL ?? 'https://api.anthropic.com',
      explicitBaseUrl: e.ANTHROPIC_BASE_URL !== undefined,
    },
    bedrock: { region: e.AWS_REGION ?? e.AWS_DEFAULT_REGION },
    ollama: { baseUrl: e.OLLAMA_BASE_URL },
    defaultProvider: e.DEFAULT_PROVIDER,
    maxResponseBytes: e.MAX_RESPONSE_BYTES,
    upstreamTimeoutMs: e.UPSTREAM_TIMEOUT * 1000,
    requestDeadlineMs: e.REQUEST_DEADLINE * 1000,
  };
}
