// Named providers in the routing document: each type's fields checked and refused by path, the
// built-in names kept as they are, keys read from the variable `api_key_env` names (never
// quoted), DEFAULT_PROVIDER and references allowed to name them, and the shipped example loading.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseRoutingJson, type Env, type GatewayConfig } from '../../functions/config';
import { configuredProviders } from '../../functions/adapters/compose/providers';
import { PriceBook } from '../../functions/core/pricing/pricing';
import { thrownBy } from './fixture-files';

const EXAMPLE = join(__dirname, '../../config/gateway.example.json');

function load(env: Env, doc: unknown): GatewayConfig {
  return loadConfig({ GATEWAY_CONFIG_JSON: JSON.stringify(doc), ...env }, () => '');
}

function refusal(doc: unknown, env: Env = {}): string {
  const err = thrownBy(() => load(env, doc));
  expect(err).toBeInstanceOf(ConfigError);
  return (err as ConfigError).message;
}

const GROQ = { type: 'openai', base_url: 'https://api.groq.com/openai/v1/', api_key_env: 'GROQ_API_KEY', default_model: 'llama-3.1-8b-instant' };

describe('named providers in the routing document', () => {
  test('one of each type loads, with its key read from the variable its api_key_env names', () => {
    const config = load(
      { GROQ_API_KEY: ' gsk-1 ', AZURE_EAST_KEY: 'az-1', CLAUDE_B_KEY: 'sk-ant-b' },
      {
        providers: {
          ollama: { default_model: 'qwen3' },
          groq: GROQ,
          'azure-east': { type: 'azure-openai', endpoint: 'https://x.openai.azure.com', api_version: '2024-10-21', api_key_env: 'AZURE_EAST_KEY' },
          'claude-b': { type: 'anthropic', api_key_env: 'CLAUDE_B_KEY' },
          'bedrock-west': { type: 'bedrock', region: 'us-west-2' },
          'ollama-gpu': { type: 'ollama', base_url: 'http://gpu:11434' },
        },
      },
    );
    expect(config.namedProviders.map((p) => [p.name, p.type, p.apiKey])).toEqual([
      ['groq', 'openai', 'gsk-1'],
      ['azure-east', 'azure-openai', 'az-1'],
      ['claude-b', 'anthropic', 'sk-ant-b'],
      ['bedrock-west', 'bedrock', undefined],
      ['ollama-gpu', 'ollama', undefined],
    ]);
    expect(config.namedProviders[0]).toMatchObject({ base_url: 'https://api.groq.com/openai/v1' }); // trailing slash dropped
    expect(config.routing.providers.ollama).toEqual({ default_model: 'qwen3' });
    const names = configuredProviders(config, new PriceBook()).map((p) => `${p.name}:${p.configured}`);
    expect(names).toEqual(expect.arrayContaining(['groq:true', 'azure-east:true', 'claude-b:true', 'bedrock-west:true', 'ollama-gpu:true']));
  });

  test.each<[string, unknown, string]>([
    ['an unknown field of a type', { providers: { groq: { ...GROQ, region: 'us-east-1' } } }, 'providers.groq.region is not a known field'],
    [
      'a missing required field',
      { providers: { az: { type: 'azure-openai', endpoint: 'https://x.openai.azure.com', api_key_env: 'K' } } },
      'providers.az.api_version is required',
    ],
    [
      'an unknown type',
      { providers: { mistral: { type: 'mistral' } } },
      'providers.mistral.type must be one of openai, azure-openai, anthropic, bedrock, ollama',
    ],
    ['a bad URL', { providers: { groq: { ...GROQ, base_url: 'ftp://x' } } }, 'providers.groq.base_url must use http or https'],
    ['a bad region', { providers: { west: { type: 'bedrock', region: 'west' } } }, 'providers.west.region must be an AWS region'],
    ['a name with an upper-case letter', { providers: { Groq: GROQ } }, 'providers.Groq is not a valid provider name'],
    ['a new name without a type', { providers: { groq: { default_model: 'x' } } }, 'providers.groq is not a built-in provider'],
    ['a built-in name given a type', { providers: { openai: GROQ } }, 'providers.openai is a built-in provider'],
    [
      'a route target naming no provider',
      { providers: { groq: GROQ }, routes: { r: { targets: [{ provider: 'grok', model: 'm' }] } } },
      'routes.r.targets[0].provider must be one of openai, anthropic, bedrock, ollama, groq',
    ],
    ['a fallback provider naming no provider', { providers: { groq: GROQ }, fallback_providers: ['openai', 'grok'] }, 'fallback_providers[1] must be one of'],
    ['an unknown fallback setting', { fallback: { explicit: true, cross_price: false } }, 'fallback.cross_price is not a known field'],
  ])('refuses %s, naming its path', (_label, doc, message) => {
    expect(refusal(doc, { GROQ_API_KEY: 'k' })).toContain(message);
  });

  test('named providers may be route targets, fallback providers and DEFAULT_PROVIDER', () => {
    const doc = { providers: { groq: GROQ }, routes: { fast: { targets: [{ provider: 'groq', model: 'llama' }] } }, fallback_providers: ['groq', 'openai'] };
    const config = load({ GROQ_API_KEY: 'k', DEFAULT_PROVIDER: 'Groq' }, doc);
    expect(config.defaultProvider).toBe('groq');
    expect(config.routing.fallback).toEqual({ explicit: false });
    expect(thrownBy(() => load({ DEFAULT_PROVIDER: 'grok' }, doc))).toMatchObject({
      message: expect.stringMatching(/^DEFAULT_PROVIDER must be one of .*groq/),
    });
  });

  test('a key variable that is not set is refused when the gateway is built, naming the variable and no value', () => {
    const config = load({ OTHER: 'sk-secret-value' }, { providers: { groq: GROQ } });
    const err = thrownBy(() => configuredProviders(config, new PriceBook()));
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe('providers.groq.api_key_env names GROQ_API_KEY, which is not set in the environment');
  });

  test('with a provider secret the key variable is not read from the environment', () => {
    const secretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ai-gateway/provider-keys-AbCdEf';
    const config = load({ PROVIDER_SECRET_ARN: secretArn, GROQ_API_KEY: 'from-plain-env' }, { providers: { groq: GROQ } });
    expect(config.namedProviders[0]?.apiKey).toBeUndefined();
    expect((thrownBy(() => configuredProviders(config, new PriceBook())) as Error).message).toContain('GROQ_API_KEY, which is not set in the provider secret');
  });

  test('the shipped example loads', () => {
    const text = readFileSync(EXAMPLE, 'utf8');
    const routing = parseRoutingJson(JSON.parse(text), 'config/gateway.example.json');
    expect(Object.keys(routing.providers)).toEqual(['ollama', 'groq', 'azure-east', 'claude-b', 'bedrock-west', 'ollama-gpu']);
    const config = loadConfig({ GATEWAY_CONFIG: EXAMPLE, GROQ_API_KEY: 'k1', AZURE_EAST_KEY: 'k2', CLAUDE_B_KEY: 'k3' }, (p) => readFileSync(p, 'utf8'));
    expect(
      configuredProviders(config, new PriceBook())
        .filter((p) => p.configured)
        .map((p) => p.name),
    ).toEqual(expect.arrayContaining(['ollama', 'groq', 'azure-east', 'claude-b', 'bedrock-west', 'ollama-gpu']));
  });
});
