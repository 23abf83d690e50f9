// Named providers' keys in the deployed stack: read from the provider secret's field that
// `api_key_env` names, never from a plain Lambda variable; one GetSecretValue for the configured
// ARN; a missing field refuses the gateway naming the field, never a value. Only the SDK client
// is faked (Secrets Manager has no local endpoint); the commands are the SDK's own.
import { GetSecretValueCommand, type GetSecretValueCommandOutput } from '@aws-sdk/client-secrets-manager';
import { loadConfig, type GatewayConfig } from '../../functions/config';
import { keyedGateway } from '../../functions/adapters/aws/keyed-gateway';
import { namedKeyFields, providerKeysSecret, sameProviderKeys } from '../../functions/adapters/aws/provider-keys';
import type { SecretsClient } from '../../functions/adapters/aws/secrets';
import type { ComposedGateway } from '../../functions/adapters/compose';
import { configuredProviders } from '../../functions/adapters/compose/providers';
import { createJsonLogger } from '../../functions/core/logger';
import { PriceBook } from '../../functions/core/pricing/pricing';
import type { Provider } from '../../functions/core/providers/provider';

const ARN = 'arn:aws:secretsmanager:us-west-2:123456789012:secret:ai-gateway/provider-keys-AbCdEf';
const GROQ_KEY = 'gsk-from-the-secret-0123456789';
const AZURE_KEY = 'azure-from-the-secret-abcdef';

class RecordingClient implements SecretsClient {
  readonly commands: GetSecretValueCommand[] = [];
  constructor(public text: string) {}
  async send(command: GetSecretValueCommand): Promise<GetSecretValueCommandOutput> {
    this.commands.push(command);
    return { $metadata: {}, ARN, Name: 'ai-gateway/provider-keys', SecretString: this.text, VersionId: 'v1' };
  }
}

const ROUTING = {
  providers: {
    groq: { type: 'openai', base_url: 'https://api.groq.com/openai/v1', api_key_env: 'GROQ_API_KEY' },
    'azure-east': { type: 'azure-openai', endpoint: 'https://x.openai.azure.com', api_version: '2024-10-21', api_key_env: 'AZURE_EAST_KEY' },
    'bedrock-west': { type: 'bedrock', region: 'us-west-2' },
  },
};

function deployedConfig(): GatewayConfig {
  // GROQ_API_KEY in the plain environment must be ignored: the secret is the only source.
  return loadConfig({ PROVIDER_SECRET_ARN: ARN, GATEWAY_CONFIG_JSON: JSON.stringify(ROUTING), GROQ_API_KEY: 'gsk-plain-env' }, () => '');
}

function setup(text: string) {
  const config = deployedConfig();
  const client = new RecordingClient(text);
  const lines: string[] = [];
  const logger = createJsonLogger('debug', (l) => lines.push(l));
  const secret = providerKeysSecret({ secretId: ARN, namedFields: namedKeyFields(config), refreshMs: 300_000, logger, client: async () => client });
  let built: Provider[] = [];
  const source = keyedGateway({
    config,
    logger,
    secret,
    compose: async (c) => {
      built = configuredProviders(c, new PriceBook());
      return { built } as unknown as ComposedGateway;
    },
  });
  return { config, client, lines, secret, source, providers: () => built };
}

describe('named providers’ keys from the provider secret', () => {
  test('the fields api_key_env names are the ones read', () => {
    expect(namedKeyFields(deployedConfig())).toEqual(['GROQ_API_KEY', 'AZURE_EAST_KEY']);
  });

  test('one GetSecretValue for the ARN; each named provider gets its field, none from the plain environment', async () => {
    const { client, source, providers, lines } = setup(JSON.stringify({ OPENAI_API_KEY: '', GROQ_API_KEY: ` ${GROQ_KEY} `, AZURE_EAST_KEY: AZURE_KEY }));
    await source.get();
    expect(client.commands).toHaveLength(1);
    expect(client.commands[0]).toBeInstanceOf(GetSecretValueCommand);
    expect(client.commands[0]?.input).toEqual({ SecretId: ARN });
    const byName = new Map(providers().map((p) => [p.name, p]));
    expect(byName.get('groq')?.configured).toBe(true);
    expect(byName.get('azure-east')?.configured).toBe(true);
    expect(lines.join('\n')).toContain('"providers":["GROQ_API_KEY","AZURE_EAST_KEY"]');
    expect(lines.join('\n')).not.toContain(GROQ_KEY);
  });

  test('the named fields are parsed; a rotated named key counts as a change (the gateway is recomposed)', async () => {
    const { secret, config } = setup(JSON.stringify({ GROQ_API_KEY: GROQ_KEY, AZURE_EAST_KEY: AZURE_KEY }));
    const keys = await secret.load();
    expect(keys.named).toEqual({ GROQ_API_KEY: GROQ_KEY, AZURE_EAST_KEY: AZURE_KEY });
    expect(sameProviderKeys(keys, { ...keys, named: { ...keys.named, AZURE_EAST_KEY: 'rotated' } })).toBe(false);
    expect(config.namedProviders.find((p) => p.name === 'groq')?.apiKey).toBeUndefined();
  });

  test('a field missing from the secret refuses the gateway, naming the field and no value', async () => {
    const { source, lines } = setup(JSON.stringify({ GROQ_API_KEY: GROQ_KEY }));
    await expect(source.get()).rejects.toThrow('providers.azure-east.api_key_env names AZURE_EAST_KEY, which is not set in the provider secret');
    expect(lines.join('\n')).toContain('gateway setup failed');
    expect(lines.join('\n')).not.toContain(GROQ_KEY);
  });
});
