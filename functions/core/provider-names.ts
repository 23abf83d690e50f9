// Provider names. The four built-in providers are configured from their environment variables;
// the routing document's `providers` section adds named instances of any provider type
// ("groq" of type openai, "bedrock-west" of type bedrock). A route target, X-Provider, a
// `provider/` model prefix, DEFAULT_PROVIDER and a tenant's provider settings may name either.
export const BUILT_IN_PROVIDERS = ['openai', 'anthropic', 'bedrock', 'ollama'] as const;
export type BuiltInProviderName = (typeof BUILT_IN_PROVIDERS)[number];

/** The kinds of upstream a named provider may be: each built-in one, and Azure OpenAI. */
export const PROVIDER_TYPES = ['openai', 'azure-openai', 'anthropic', 'bedrock', 'ollama'] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];

export function isBuiltInProvider(name: string): name is BuiltInProviderName {
  return (BUILT_IN_PROVIDERS as readonly string[]).includes(name);
}

/** What a configured name needs to be told apart: built-in names, and named entries with their type. */
export interface ProviderDirectory {
  providers: Readonly<Record<string, { type?: ProviderType }>>;
}

/** Every provider name a request may use (configured or not): the built-in ones, then the named ones. */
export function providerNames(routing: ProviderDirectory): string[] {
  const named = Object.entries(routing.providers)
    .filter(([name, entry]) => entry.type !== undefined && !isBuiltInProvider(name))
    .map(([name]) => name);
  return [...BUILT_IN_PROVIDERS, ...named];
}

/** The type of the provider with this name; undefined for a name that is not a provider. */
export function providerType(name: string, routing: ProviderDirectory): ProviderType | undefined {
  if (isBuiltInProvider(name)) return name;
  return Object.hasOwn(routing.providers, name) ? routing.providers[name]?.type : undefined;
}
