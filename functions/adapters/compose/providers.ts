// The chat gateway's providers: the four built-in ones from their environment settings, then one
// instance per named provider of the routing document, each under its own name (its breaker,
// metrics labels, usage records and x_gateway.provider carry that name).
import { LazyBedrockProvider } from '../bedrock/lazy';
import { requireProviderKeys, type GatewayConfig, type NamedProvider } from '../../config';
import type { ModelListSource } from '../../core/backend-models';
import type { PriceBook } from '../../core/pricing/pricing';
import { AnthropicProvider } from '../../core/providers/anthropic';
import { AzureOpenAIProvider } from '../../core/providers/azure-openai';
import { OllamaProvider } from '../../core/providers/ollama';
import { OpenAIProvider } from '../../core/providers/openai';
import type { Provider } from '../../core/providers/provider';

const ANTHROPIC_API = 'https://api.anthropic.com';

/** Every provider the configuration names; throws a ConfigError when a named provider's key is missing. */
export function configuredProviders(config: GatewayConfig, prices: PriceBook): Provider[] {
  const where = config.secrets.providerSecretArn ? 'in the provider secret' : 'in the environment';
  requireProviderKeys(config.namedProviders, where);
  return [
    new OpenAIProvider({ ...config.openai, prices }),
    new AnthropicProvider({ ...config.anthropic, prices }),
    new LazyBedrockProvider({ region: config.bedrock.region, prices }),
    new OllamaProvider(config.ollama.baseUrl),
    ...config.namedProviders.map((named) => namedProvider(named, prices)),
  ];
}

function namedProvider(p: NamedProvider, prices: PriceBook): Provider {
  switch (p.type) {
    case 'openai':
      // An OpenAI-compatible server is configured by its URL; it may need no key.
      return new OpenAIProvider({ name: p.name, apiKey: p.apiKey, baseUrl: p.base_url, explicitBaseUrl: true, prices });
    case 'azure-openai':
      return new AzureOpenAIProvider({ name: p.name, endpoint: p.endpoint, apiVersion: p.api_version, apiKey: p.apiKey, prices });
    case 'anthropic':
      return new AnthropicProvider({ name: p.name, apiKey: p.apiKey, baseUrl: p.base_url ?? ANTHROPIC_API, explicitBaseUrl: p.base_url !== undefined, prices });
    case 'bedrock':
      return new LazyBedrockProvider({ name: p.name, region: p.region, prices });
    case 'ollama':
      return new OllamaProvider(p.base_url, p.name);
  }
}

/** Where each OpenAI-compatible named backend lists its models (`GET {base_url}/models`). */
export function backendModelSources(config: GatewayConfig): Map<string, ModelListSource> {
  const sources = new Map<string, ModelListSource>();
  for (const p of config.namedProviders) {
    if (p.type !== 'openai') continue;
    sources.set(p.name, { url: `${p.base_url}/models`, headers: p.apiKey ? { authorization: `Bearer ${p.apiKey}` } : {} });
  }
  return sources;
}
