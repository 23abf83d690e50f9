// Provider names shared by the upstream process and the translation section (kept apart so the
// upstream process does not load the bench's orchestration code).

export const PROVIDERS = ['openai', 'anthropic', 'bedrock', 'ollama'] as const;
export type ProviderName = (typeof PROVIDERS)[number];
export type PerProvider<T> = Record<ProviderName, T>;

export function isProviderName(s: string): s is ProviderName {
  return (PROVIDERS as readonly string[]).includes(s);
}
