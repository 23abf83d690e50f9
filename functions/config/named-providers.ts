// The routing document's provider entries. An entry under a built-in name (openai, anthropic,
// bedrock, ollama) without a `type` only sets that provider's `default_model`: its key and URL
// come from the environment as always. An entry with a `type` is a named provider of that type
// with its own fields; a built-in name cannot be given a type (it would be two providers under
// one name). Keys are named by `api_key_env` and read from that variable, or, where a provider
// secret is configured (the deployed stack), from that secret's field of the same name.
import * as v from 'valibot';
import { ConfigError } from './error';
import { baseUrl, type Env } from './env';
import { BUILT_IN_PROVIDERS, isBuiltInProvider, PROVIDER_TYPES, type ProviderType } from '../core/provider-names';
import { isJsonObject, section } from './strict';

export interface OpenAICompatibleEntry {
  type: 'openai';
  /** The server's API root, up to and including its version (`https://api.groq.com/openai/v1`). */
  base_url: string;
  /** Absent: the server needs no key (a local vLLM, say). */
  api_key_env?: string;
  default_model?: string;
}

export interface AzureOpenAIEntry {
  type: 'azure-openai';
  /** The resource's endpoint, `https://<resource>.openai.azure.com`. */
  endpoint: string;
  api_version: string;
  api_key_env: string;
  default_model?: string;
}

export interface AnthropicEntry {
  type: 'anthropic';
  /** Without /v1; Anthropic's own API when absent. */
  base_url?: string;
  api_key_env: string;
  default_model?: string;
}

export interface BedrockEntry {
  type: 'bedrock';
  region: string;
  default_model?: string;
}

export interface OllamaEntry {
  type: 'ollama';
  base_url: string;
  default_model?: string;
}

export type NamedProviderEntry = OpenAICompatibleEntry | AzureOpenAIEntry | AnthropicEntry | BedrockEntry | OllamaEntry;

/** A built-in provider's entry: only its fallback model. */
export interface BuiltInProviderEntry {
  type?: undefined;
  default_model?: string;
}

export type ProviderEntry = BuiltInProviderEntry | NamedProviderEntry;

/** A named provider ready to be built: its name, its entry, and its key once read. */
export type NamedProvider = NamedProviderEntry & { name: string; apiKey?: string };

export interface NamedProviderSettings {
  /** The routing document's named providers, in the order it lists them. */
  namedProviders: NamedProvider[];
}

const nonEmptyString = v.message(v.pipe(v.string(), v.minLength(1)), 'must be a non-empty string');

const envName = v.message(v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/)), 'must be an environment variable name (letters, digits, _)');
const awsRegion = v.message(v.pipe(v.string(), v.regex(/^[a-z]{2}(-[a-z]+)+-\d+$/)), 'must be an AWS region such as us-west-2');
const defaultModel = v.optional(nonEmptyString);

const ENTRY_SCHEMAS = {
  openai: section({ type: v.literal('openai'), base_url: baseUrl, api_key_env: v.optional(envName), default_model: defaultModel }),
  'azure-openai': section({
    type: v.literal('azure-openai'),
    endpoint: baseUrl,
    api_version: nonEmptyString,
    api_key_env: envName,
    default_model: defaultModel,
  }),
  anthropic: section({ type: v.literal('anthropic'), base_url: v.optional(baseUrl), api_key_env: envName, default_model: defaultModel }),
  bedrock: section({ type: v.literal('bedrock'), region: awsRegion, default_model: defaultModel }),
  ollama: section({ type: v.literal('ollama'), base_url: baseUrl, default_model: defaultModel }),
} satisfies Record<ProviderType, v.GenericSchema>;

const BUILT_IN_ENTRY = section({ default_model: defaultModel });

const TYPE_LIST = PROVIDER_TYPES.join(', ');

/** A provider name: what a `name/model` prefix and X-Provider carry (read in lower case). */
export const providerKey = v.message(
  v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9._-]{0,62}$/)),
  'is not a valid provider name (up to 63 of a-z, 0-9, ".", "_", "-", starting with a letter or digit)',
);

/**
 * One entry of `providers`, checked against its type's fields (and read through them: URLs lose
 * their trailing slashes); the issue's path is relative to the entry (`base_url`, `type`), so the
 * document's path to the entry comes before it.
 */
export const providerEntry = v.pipe(
  v.custom<Record<string, unknown>>(isJsonObject, 'must be an object'),
  v.rawTransform<Record<string, unknown>, ProviderEntry>(({ dataset, addIssue, NEVER }) => {
    const entry = dataset.value;
    const schema = entrySchema(entry);
    if (typeof schema === 'string') {
      addIssue({ message: schema, path: entry.type === undefined ? undefined : [pathItem(entry, 'type')] });
      return NEVER;
    }
    const result = v.safeParse(schema, entry, { abortEarly: true });
    if (result.success) return result.output as ProviderEntry;
    const issue = result.issues[0];
    addIssue({ message: issue.message, path: issue.path });
    return NEVER;
  }),
);

function pathItem(input: Record<string, unknown>, key: string) {
  return { type: 'object' as const, origin: 'value' as const, input, key, value: input[key] };
}

/** The schema an entry is checked with, or why it cannot be one (a missing or unknown type). */
function entrySchema(entry: Record<string, unknown>): v.GenericSchema | string {
  if (entry.type === undefined) return BUILT_IN_ENTRY;
  if (typeof entry.type !== 'string' || !(PROVIDER_TYPES as readonly string[]).includes(entry.type)) return `must be one of ${TYPE_LIST}`;
  return ENTRY_SCHEMAS[entry.type as ProviderType];
}

/** Refusals that need the entry's name: a built-in name re-typed, a new name without a type. */
export function entryNameProblem(name: string, entry: ProviderEntry): string | undefined {
  if (isBuiltInProvider(name) && entry.type !== undefined) {
    return `is a built-in provider configured from the environment and cannot be given a type; name the ${entry.type} provider differently (e.g. "${name}-2")`;
  }
  if (!isBuiltInProvider(name) && entry.type === undefined) {
    return `is not a built-in provider (${BUILT_IN_PROVIDERS.join(', ')}); a named provider needs a "type" (${TYPE_LIST})`;
  }
  return undefined;
}

/**
 * The named providers of a routing document with their keys from the environment, or (with
 * `keysFromSecret`, the deployed stack) without: the provider secret fills them in then (see
 * adapters/aws/provider-keys.ts), never a plain Lambda variable. A key still missing is refused
 * by `requireProviderKeys` when the gateway is composed.
 */
export function resolveNamedProviders(providers: Readonly<Record<string, ProviderEntry>>, env: Env, keysFromSecret: boolean): NamedProvider[] {
  const named: NamedProvider[] = [];
  for (const [name, entry] of Object.entries(providers)) {
    if (entry.type === undefined) continue;
    const keyEnv = keyVariable(entry);
    const key = keyEnv === undefined || keysFromSecret ? undefined : env[keyEnv]?.trim();
    named.push(key ? { ...entry, name, apiKey: key } : { ...entry, name });
  }
  return named;
}

/** The variable (or provider secret field) holding the entry's key, if it has one. */
export function keyVariable(entry: NamedProviderEntry): string | undefined {
  return 'api_key_env' in entry ? entry.api_key_env : undefined;
}

/** Refuses a named provider whose key variable is not set, naming the variable (never a value). */
export function requireProviderKeys(named: readonly NamedProvider[], where: string): void {
  for (const provider of named) {
    const keyEnv = keyVariable(provider);
    if (keyEnv !== undefined && provider.apiKey === undefined) {
      throw new ConfigError(`providers.${provider.name}.api_key_env names ${keyEnv}, which is not set ${where}`);
    }
  }
}
