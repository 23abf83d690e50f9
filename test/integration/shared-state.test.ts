// Several gateway instances sharing rate-limit windows and cached answers: through Redis
// (REDIS_URL) and through the DynamoDB state table (dynalite).
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { startBareInstance, type BareInstance } from '../helpers/bare-instance';
import { startDynalite, type RunningDynalite } from '../helpers/dynalite';
import { eventually } from '../helpers/eventually';
import { startRedis, type RunningRedis } from '../helpers/redis';
import type { Env } from '../../functions/config';
import { DEFAULT_TENANT, DEFAULT_TENANT_KEY } from '../../functions/core/tenants';

type Instance = BareInstance;

const instance = (env: Env, now: () => number): Promise<Instance> => startBareInstance(env, now);

async function stop(...instances: Instance[]): Promise<void> {
  for (const i of instances) await i.close();
}

/** Gives the default tenant a per-minute request limit on every instance's store. */
async function limitDefaultTenant(inst: Instance, rpm: number): Promise<void> {
  const record = await inst.composed.stores.tenants.get(DEFAULT_TENANT.id);
  if (!record) throw new Error('no default tenant');
  await inst.composed.stores.tenants.update({ ...record, rate_limit_rpm: rpm, version: record.version + 1 });
}

const ask = (inst: Instance, content: string, extra: Record<string, unknown> = {}): Promise<Response> =>
  fetch(`${inst.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${DEFAULT_TENANT_KEY}` },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content }], ...extra }),
  });

describe.each(['redis', 'dynamodb'] as const)('shared state through %s', (backend) => {
  let upstream: FakeUpstream;
  let redis: RunningRedis | undefined;
  let dynalite: RunningDynalite | undefined;
  let a: Instance;
  let b: Instance;
  const saved = { ...process.env };
  // Both instances read this clock: rate-limit windows and cache TTLs move only when a test moves it.
  // It starts one second into a minute, so a burst at one instant shares one window.
  let clock = Date.UTC(2030, 0, 15, 12, 0, 1);
  const now = (): number => clock;

  beforeAll(async () => {
    upstream = await startOpenAIUpstream();
    // Exactness across instances is what is tested here, not deadlines: a loaded test machine gets slack.
    const env: Env = { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url, OLLAMA_BASE_URL: 'http://127.0.0.1:1', STORE_TIMEOUT: '5000' };
    if (backend === 'redis') {
      redis = await startRedis();
      env.REDIS_URL = redis.url;
    } else {
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_REGION: 'us-east-1' });
      dynalite = await startDynalite();
      Object.assign(env, { DYNAMODB_ENDPOINT: dynalite.endpoint, TENANTS_TABLE: `t-${Date.now()}`, STATE_TABLE: `s-${Date.now()}`, TENANT_CACHE_TTL: '1' });
    }
    a = await instance(env, now);
    b = await instance(env, now);
  });
  afterAll(async () => {
    await stop(a, b);
    await redis?.stop();
    await dynalite?.close();
    await upstream.close();
    process.env = saved;
  });

  test('a cached answer from one instance is a hit on the other', async () => {
    type Answer = { x_gateway: { cache_hit: boolean; cost_usd: number } };
    const askCached = async (inst: Instance): Promise<Answer> => (await (await ask(inst, `cache ${backend}`, { temperature: 0 })).json()) as Answer;
    const first = await askCached(a);
    expect(first.x_gateway.cache_hit).toBe(false);
    // The cache write happens after the answer: once `a` answers from the shared cache, it is there.
    await eventually('the answer in the shared cache', async () => (await askCached(a)).x_gateway.cache_hit);
    const second = await askCached(b);
    expect(second.x_gateway).toMatchObject({ cache_hit: true, cost_usd: 0 });
  });

  test('two instances together admit exactly the per-minute limit', async () => {
    // Memory tenants are per instance: give each instance's store the same limit.
    if (backend === 'redis') {
      for (const inst of [a, b]) {
        const store = inst.composed.stores.tenants as unknown as { put(key: string, tenant: typeof DEFAULT_TENANT): void };
        store.put(DEFAULT_TENANT_KEY, { ...DEFAULT_TENANT, rate_limit_rpm: 6 });
      }
    } else {
      await limitDefaultTenant(a, 6);
    }
    // A fresh minute window for the burst, also past TENANT_CACHE_TTL: both instances read the new limit.
    clock += 60_000;
    const responses = await Promise.all(Array.from({ length: 12 }, (_, i) => ask(i % 2 === 0 ? a : b, `limit ${backend} ${i}`)));
    const statuses = responses.map((r) => r.status);
    await Promise.all(responses.map((r) => r.arrayBuffer()));
    expect(statuses.filter((s) => s === 200)).toHaveLength(6);
    expect(statuses.filter((s) => s === 429)).toHaveLength(6);
  });
});
