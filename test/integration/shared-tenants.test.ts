// Gateway instances sharing one DynamoDB (dynalite), started as `npm start` starts them: a tenant
// created through one instance's admin API works on the other; rotating or deleting its key stops
// it everywhere within TENANT_CACHE_TTL, and at once on the instance whose admin API made the change.
import { loadConfig } from '../../functions/config';
import { silentLogger } from '../../functions/core/logger';
import { startLocalGateway, type LocalGateway } from '../../functions/local/app';
import { startDynalite, type RunningDynalite } from '../helpers/dynalite';
import { eventually } from '../helpers/eventually';

type Instance = LocalGateway;

function instance(endpoint: string, table: string, cacheTtlSeconds = 1): Promise<Instance> {
  const config = loadConfig(
    {
      ADDR: '127.0.0.1:0',
      DYNAMODB_ENDPOINT: endpoint,
      TENANTS_TABLE: table,
      TENANT_CACHE_TTL: String(cacheTtlSeconds),
      OLLAMA_BASE_URL: 'http://127.0.0.1:1',
      // What a change reaching every instance looks like is tested here, not deadlines: on a loaded
      // test machine a slow lookup must not be answered from the last-known-good copy instead.
      STORE_TIMEOUT: '5000',
    },
    () => '',
    'test',
  );
  return startLocalGateway(config, silentLogger);
}

describe('tenants shared through DynamoDB', () => {
  let dynalite: RunningDynalite;
  let a: Instance;
  let b: Instance;
  /** Caches lookups for an hour: only its own admin writes can make it see a change soon. */
  let patient: Instance;
  const saved = { ...process.env };

  beforeAll(async () => {
    process.env.AWS_ACCESS_KEY_ID = 'local';
    process.env.AWS_SECRET_ACCESS_KEY = 'local';
    process.env.AWS_REGION = 'us-east-1';
    dynalite = await startDynalite();
    const table = `shared-tenants-${Date.now()}`;
    a = await instance(dynalite.endpoint, table);
    b = await instance(dynalite.endpoint, table);
    patient = await instance(dynalite.endpoint, table, 3600);
  });
  afterAll(async () => {
    await Promise.all([a.close(500), b.close(500), patient.close(500)]);
    await dynalite.close();
    process.env = saved;
  });

  const models = (inst: Instance, key: string): Promise<number> =>
    fetch(`${inst.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.status);
  const adminPost = async (path: string, body: unknown, via: Instance = a): Promise<Record<string, unknown>> => {
    const res = await fetch(`${via.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBeLessThan(300);
    return (await res.json()) as Record<string, unknown>;
  };
  test('the seeded default key works on both instances', async () => {
    expect(await models(a, 'gw-default-key')).toBe(200);
    expect(await models(b, 'gw-default-key')).toBe(200);
  });

  test('a key minted on one instance works on the other; rotation and deletion stop it everywhere within the TTL', async () => {
    const created = await adminPost('/admin/tenants', { name: 'shared-service' });
    const id = created.id as string;
    const first = created.api_key as string;
    expect(await models(b, first)).toBe(200);

    const rotated = await adminPost(`/admin/tenants/${id}/rotate-key`, {});
    const second = rotated.api_key as string;
    await eventually('the rotated-out key refused on the other instance', async () => (await models(b, first)) === 401, 2_500, 100);
    expect(await models(b, second)).toBe(200);

    const res = await fetch(`${a.url}/admin/tenants/${id}`, { method: 'DELETE' });
    expect(res.status).toBe(204);
    await eventually("the deleted tenant's key refused on the other instance", async () => (await models(b, second)) === 401, 2_500, 100);
  });

  test('disabling a tenant turns its requests into 403 on the other instance within the TTL', async () => {
    const created = await adminPost('/admin/tenants', { name: 'to-disable' });
    const key = created.api_key as string;
    expect(await models(b, key)).toBe(200);
    const res = await fetch(`${a.url}/admin/tenants/${created.id as string}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ enabled: false }),
    });
    expect(res.status).toBe(200);
    await eventually('the disabled tenant refused on the other instance', async () => (await models(b, key)) === 403, 2_500, 100);
  });

  test('the instance whose admin API rotates, disables or deletes a tenant sees it at once, whatever its cache TTL', async () => {
    const created = await adminPost('/admin/tenants', { name: 'local-writes' }, patient);
    const id = created.id as string;
    const first = created.api_key as string;
    expect(await models(patient, first)).toBe(200); // now cached for an hour

    const rotated = await adminPost(`/admin/tenants/${id}/rotate-key`, {}, patient);
    const second = rotated.api_key as string;
    expect(await models(patient, first)).toBe(401);
    expect(await models(patient, second)).toBe(200);

    const disabled = await fetch(`${patient.url}/admin/tenants/${id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ enabled: false }),
    });
    expect(disabled.status).toBe(200);
    expect(await models(patient, second)).toBe(403);

    expect((await fetch(`${patient.url}/admin/tenants/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await models(patient, second)).toBe(401);
  });
});
