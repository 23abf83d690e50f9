// The built-in providers' names: what a route target, X-Provider, DEFAULT_PROVIDER and a tenant's
// provider settings may name.
export const PROVIDER_NAMES = ['openai', 'anthropic', 'bedrock', 'ollama'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];
