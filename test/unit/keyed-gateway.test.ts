// The chat function's cold start with the provider secret: what the keys do not change (the
// stores) is composed during the secret's round trip rather than after it, once, and shared by
// the gateway recomposed when the keys change. Only the SDK client is faked (Secrets Manager has
// no local endpoint); the command is the SDK's own.
import type { GetSecretValueCommand, GetSecretValueCommandOutput } from '@aws-sdk/client-secrets-manager';
import { keyedGateway } from '../../functions/adapters/aws/keyed-gateway';
import { providerKeysSecret } from '../../functions/adapters/aws/provider-keys';
import type { SecretsClient } from '../../functions/adapters/aws/secrets';
import type { ComposedGateway } from '../../functions/adapters/compose';
import { loadConfig, type GatewayConfig } from '../../functions/config';
import { silentLogger } from '../../functions/core/logger';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ai-gateway/provider-keys-AbCdEf';

/**
 * A Secrets Manager client whose answers the test releases one by one. Like the SDK's, it runs the
 * command's own middleware before the request leaves; then the answer is up to the test.
 */
class HeldClient implements SecretsClient {
  readonly pending: Array<(text: string) => void> = [];
  async send(command: GetSecretValueCommand): Promise<GetSecretValueCommandOutput> {
    const leave = command.middlewareStack.resolve(async () => ({ output: { $metadata: {} }, response: {} }), {});
    await leave({ input: command.input });
    return new Promise((resolve) => this.pending.push((text) => resolve({ $metadata: {}, ARN, SecretString: text })));
  }
}

const keys = (openai: string): string => JSON.stringify({ OPENAI_API_KEY: openai });
/** Lets the pending callbacks run (a few turns of the event loop; no timers involved). */
const settle = async (): Promise<void> => {
  for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
};

function setup(foundation: () => Promise<{ id: number }>) {
  const client = new HeldClient();
  let clock = 0;
  const secret = providerKeysSecret({ secretId: ARN, refreshMs: 1000, logger: silentLogger, client: async () => client, now: () => clock });
  const composed: Array<{ key: string | undefined; foundation: { id: number } }> = [];
  const source = keyedGateway<GatewayConfig, { id: number }>({
    config: loadConfig({ PROVIDER_SECRET_ARN: ARN }, () => ''),
    logger: silentLogger,
    secret,
    foundation,
    compose: async (c, f) => {
      composed.push({ key: c.openai.apiKey, foundation: f });
      return { gateway: {} } as unknown as ComposedGateway;
    },
  });
  return { client, source, composed, secret, advance: (ms: number) => (clock += ms) };
}

test('the stores are composed once the secret request has left, during its round trip; then the gateway with the keys over them', async () => {
  let started = 0;
  const { client, source, composed } = setup(async () => ({ id: ++started }));
  const ready = source.get();
  await settle();
  // The secret's answer has not come yet, and the foundation is already there.
  expect(client.pending).toHaveLength(1);
  expect(started).toBe(1);
  expect(composed).toEqual([]);
  client.pending[0]?.(keys('sk-first'));
  await ready;
  expect(composed).toEqual([{ key: 'sk-first', foundation: { id: 1 } }]);
});

test('new keys recompose the gateway over the same stores', async () => {
  let started = 0;
  const { client, source, composed, secret, advance } = setup(async () => ({ id: ++started }));
  const first = source.get();
  await settle();
  client.pending.shift()?.(keys('sk-first'));
  await first;
  advance(1000);
  await source.get(); // due: starts the background refresh
  await settle();
  client.pending.shift()?.(keys('sk-rotated'));
  await secret.settled();
  await settle();
  expect(composed.map((c) => c.key)).toEqual(['sk-first', 'sk-rotated']);
  expect(composed.map((c) => c.foundation.id)).toEqual([1, 1]);
  expect(started).toBe(1);
});

test('stores that could not be set up are set up again by the next request', async () => {
  let started = 0;
  const { client, source, composed } = setup(async () => {
    started += 1;
    if (started === 1) throw new Error('DynamoDB client: no region');
    return { id: started };
  });
  const first = source.get();
  await settle();
  client.pending.shift()?.(keys('sk-first'));
  await expect(first).rejects.toThrow('no region');
  const second = source.get();
  await settle();
  client.pending.shift()?.(keys('sk-first'));
  await second;
  expect(composed).toEqual([{ key: 'sk-first', foundation: { id: 2 } }]);
});
