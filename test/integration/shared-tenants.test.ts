// Two gateway instances sharing one DynamoDB (dynalite): a tenant created through one instance's
// admin API works on the other; rotating or deleting its key stops it everywhere within
// TENANT_CACHE_TTL.
import { composeGateway } from '../../functions/adapters/compose';
import { adminApiFromApiRequest, isAdminPath } from '../../functions/admin';
import { loadConfig } from '../../functions/core/config';
import { silentLogger } from '../../functions/core/logger';
import { startServer, type RunningServer } from '../../functions/local/server';
import { startDynalite, type RunningDynalite } from '../helpers/dynalite';
import { eventually } from '../helpers/eventually';

interface Instance {
  url: string;
  server: RunningServer;
  /** Writes back what requests left behind, before the store goes away. */
  flush(): Promise<void>;
}

async function instance(endpoint: string, table: string): Promise<Instance> {
  const config = loadConfig({
    ADDR: '127.0.0.1:0', DYNAMODB_ENDPOINT: endpoint, TENANTS_TABLE: table, TENANT_CACHE_TTL: '1', OLLAMA_BASE_URL: 'http://127.0.0.1:1',
    // What a change reaching every instance looks like is tested here, not deadlines: on a loaded
    // test machine a slow lookup must not be answered from the last-known-good copy instead.
    STORE_TIMEOUT: '5000',
  }, () => '', 'test');
  const { gateway, stores, usage } = await composeGateway(config, silentLogger);
  const admin = adminApiFromApiRequest({ tenants: stores.tenants, users: stores.users, audit: stores.audit, usage: usage.stores.store, authEnabled: false, logger: silentLogger });
  const server = await startServer({
    host: config.host, port: config.port, maxBodyBytes: config.maxBodyBytes, logger: silentLogger,
    handle: (req) => (isAdminPath(req.path) ? admin(req) : gateway.handle(req)),
  });
  return { url: server.url, server, flush: () => gateway.flush() };
}

describe('tenants shared through DynamoDB', () => {
  let dynalite: RunningDynalite;
  let a: Instance;
  let b: Instance;
  const saved = { ...process.env };

  beforeAll(async () => {
    process.env.AWS_ACCESS_KEY_ID = 'local';
    process.env.AWS_SECRET_ACCESS_KEY = 'local';
    process.env.AWS_REGION = 'us-east-1';
    dynalite = await startDynalite();
    const table = `shared-tenants-${Date.now()}`;
    a = await instance(dynalite.endpoint, table);
    b = await instance(dynalite.endpoint, table);
  });
  afterAll(async () => {
    await a.server.shutdown(500);
    await b.server.shutdown(500);
    await Promise.all([a.flush(), b.flush()]);
    await dynalite.close();
    process.env = saved;
  });

  const models = (inst: Instance, key: string): Promise<number> =>
    fetch(`${inst.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.status);
  const adminPost = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(`${a.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
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
    await eventually('the deleted tenant\'s key refused on the other instance', async () => (await models(b, second)) === 401, 2_500, 100);
  });

  test('disabling a tenant turns its requests into 403 on the other instance within the TTL', async () => {
    const created = await adminPost('/admin/tenants', { name: 'to-disable' });
    const key = created.api_key as string;
    expect(await models(b, key)).toBe(200);
    const res = await fetch(`${a.url}/admin/tenants/${created.id as string}`, {
      method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ enabled: false }),
    });
    expect(res.status).toBe(200);
    await eventually('the disabled tenant refused on the other instance', async () => (await models(b, key)) === 403, 2_500, 100);
  });
});
