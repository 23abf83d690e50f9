// Provider keys from Secrets Manager: the exact GetSecretValue requests, caching within the
// refresh interval, refresh after it (fake clock), failures keeping the last good value, and
// secret values kept out of every log line and error. Only the SDK client is faked: Secrets
// Manager has no local endpoint; the commands are the SDK's own.
import { GetSecretValueCommand, type GetSecretValueCommandOutput } from '@aws-sdk/client-secrets-manager';
import { loadConfig } from '../../functions/config';
import { createJsonLogger } from '../../functions/core/logger';
import { CachedSecret, type SecretsClient } from '../../functions/adapters/aws/secrets';
import { parseProviderKeys, sameProviderKeys, withProviderKeys, type ProviderKeys } from '../../functions/adapters/aws/provider-keys';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ai-gateway/provider-keys-AbCdEf';
const KEY_1 = 'sk-proj-first-0123456789abcdef';
const KEY_2 = 'sk-proj-second-0123456789abcdef';
const ANT_KEY = 'sk-ant-api03-secret-value-xyz';

/** A SecretsManagerClient stand-in: records every command and answers from a script. */
class RecordingClient implements SecretsClient {
  readonly commands: GetSecretValueCommand[] = [];
  answer: () => Promise<string> = async () => JSON.stringify({ OPENAI_API_KEY: KEY_1, ANTHROPIC_API_KEY: '' });

  async send(command: GetSecretValueCommand): Promise<GetSecretValueCommandOutput> {
    this.commands.push(command);
    const text = await this.answer();
    return { $metadata: {}, ARN, Name: 'ai-gateway/provider-keys', SecretString: text, VersionId: 'v1' };
  }
}

function setup(refreshSeconds = 300) {
  const client = new RecordingClient();
  const lines: string[] = [];
  let nowMs = 1_000_000;
  const secret = new CachedSecret<ProviderKeys>({
    secretId: ARN,
    label: 'provider keys',
    client: async () => client,
    parse: parseProviderKeys,
    equals: sameProviderKeys,
    refreshMs: refreshSeconds * 1000,
    logger: createJsonLogger('debug', (l) => lines.push(l)),
    now: () => nowMs,
  });
  return {
    client,
    secret,
    lines,
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
}

describe('provider keys secret', () => {
  test('cold start sends one GetSecretValue for the configured ARN and parses the keys', async () => {
    const { client, secret } = setup();
    expect(await secret.load()).toEqual({ openai: KEY_1 }); // the empty Anthropic key means "not configured"
    expect(client.commands).toHaveLength(1);
    expect(client.commands[0]).toBeInstanceOf(GetSecretValueCommand);
    expect(client.commands[0]?.input).toEqual({ SecretId: ARN });
  });

  test('reads within the refresh interval are served from memory', async () => {
    const { client, secret, advance } = setup(300);
    await secret.load();
    for (let i = 0; i < 50; i++) {
      advance(5_000); // 250 s in all, under the 300 s interval
      expect(secret.current()).toEqual({ openai: KEY_1 });
    }
    await secret.settled();
    expect(client.commands).toHaveLength(1);
  });

  test('after the interval one background refresh runs; the read that started it still gets the cached value', async () => {
    const { client, secret, advance } = setup(300);
    await secret.load();
    const changes: ProviderKeys[] = [];
    secret.onChange((keys) => changes.push(keys));
    client.answer = async () => JSON.stringify({ OPENAI_API_KEY: KEY_2, ANTHROPIC_API_KEY: ANT_KEY });
    advance(300_000);
    expect(secret.current()).toEqual({ openai: KEY_1 }); // served at once, no waiting on Secrets Manager
    expect(secret.current()).toEqual({ openai: KEY_1 }); // still one refresh in flight, not two
    await secret.settled();
    expect(client.commands.map((c) => c.input)).toEqual([{ SecretId: ARN }, { SecretId: ARN }]);
    expect(secret.current()).toEqual({ openai: KEY_2, anthropic: ANT_KEY });
    expect(changes).toEqual([{ openai: KEY_2, anthropic: ANT_KEY }]);
    // the next refresh is a whole interval later
    advance(299_000);
    secret.current();
    await secret.settled();
    expect(client.commands).toHaveLength(2);
  });

  test('an unchanged secret does not notify', async () => {
    const { secret, advance } = setup(60);
    await secret.load();
    const changes: ProviderKeys[] = [];
    secret.onChange((keys) => changes.push(keys));
    advance(60_000);
    secret.current();
    await secret.settled();
    expect(changes).toEqual([]);
  });

  test('a failed refresh keeps the last good value, logs without the value, and retries later', async () => {
    const { client, secret, advance, lines } = setup(300);
    await secret.load();
    client.answer = async () => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    };
    advance(300_000);
    secret.current();
    await secret.settled();
    expect(secret.current()).toEqual({ openai: KEY_1 });
    expect(client.commands).toHaveLength(2);
    const warn = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.level === 'warn');
    expect(warn).toMatchObject({ message: 'secret refresh failed; serving the last value read', secret_id: ARN, error: 'ThrottlingException: Rate exceeded' });
    // retried after the retry wait (30 s), not on every read
    advance(10_000);
    secret.current();
    await secret.settled();
    expect(client.commands).toHaveLength(2);
    client.answer = async () => JSON.stringify({ OPENAI_API_KEY: KEY_2 });
    advance(20_000);
    secret.current();
    await secret.settled();
    expect(client.commands).toHaveLength(3);
    expect(secret.current()).toEqual({ openai: KEY_2 });
  });

  test('a refresh that brings unusable text keeps the last good value and never logs the text', async () => {
    const { client, secret, advance, lines } = setup(300);
    await secret.load();
    client.answer = async () => `${KEY_2} is not JSON`;
    advance(300_000);
    secret.current();
    await secret.settled();
    client.answer = async () => JSON.stringify({ OPENAI_API_KEY: 12345, ANTHROPIC_API_KEY: ANT_KEY });
    advance(30_000);
    secret.current();
    await secret.settled();
    expect(client.commands).toHaveLength(3);
    expect(secret.current()).toEqual({ openai: KEY_1 });
    const log = lines.join('');
    expect(log).toContain('the secret is not valid JSON');
    expect(log).toContain('OPENAI_API_KEY must be a string');
    for (const value of [KEY_1, KEY_2, ANT_KEY, 'sk-']) expect(log).not.toContain(value);
  });

  test('a cold-start failure rejects with a message that does not quote the secret', async () => {
    const { client, secret } = setup();
    client.answer = async () => `{"OPENAI_API_KEY": "${KEY_1}"`; // truncated JSON
    const err = await secret.load().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toBe('provider keys: the secret is not valid JSON');
    expect(() => secret.current()).toThrow(/before the secret was loaded/);
  });

  test('the keys take the place of the environment keys in the config; an empty field leaves the environment key', () => {
    const config = loadConfig({ ANTHROPIC_API_KEY: 'sk-ant-from-env' }, () => '{}');
    const merged = withProviderKeys(config, parseProviderKeys(JSON.stringify({ OPENAI_API_KEY: ` ${KEY_1} `, ANTHROPIC_API_KEY: '' })));
    expect(merged.openai.apiKey).toBe(KEY_1);
    expect(merged.anthropic.apiKey).toBe('sk-ant-from-env');
    expect(config.openai.apiKey).toBeUndefined(); // the original is left as it was
  });
});
