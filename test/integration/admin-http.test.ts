// The admin API over real HTTP: the local gateway as `npm start` starts it (functions/local/app.ts),
// /admin/* beside the gateway, so a key minted by the admin API is used on /v1 right away.
import { loadConfig } from '../../functions/config';
import { silentLogger } from '../../functions/core/logger';
import { startLocalGateway, type LocalGateway } from '../../functions/local/app';

/* eslint-disable @typescript-eslint/no-explicit-any -- parsed response JSON in assertions */
interface Started {
  url: string;
  local: LocalGateway;
  close: () => Promise<void>;
}

/** With auth on, the first admin is admin:admin (no ADMIN_PASSWORD), as `npm start` creates it. */
async function start(authEnabled: boolean): Promise<Started> {
  const config = loadConfig({ ADDR: '127.0.0.1:0', ADMIN_AUTH_ENABLED: String(authEnabled) }, () => '{}', 'test');
  const local = await startLocalGateway(config, silentLogger);
  return { url: local.url, local, close: () => local.close() };
}

const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe("admin API over HTTP, auth off (the seed's local default)", () => {
  let s: Started;
  beforeAll(async () => {
    s = await start(false);
  });
  afterAll(() => s.close());

  it("runs the seed's curl walkthrough, and a minted key works on /v1 at once", async () => {
    const list = await fetch(`${s.url}/admin/tenants`);
    expect(list.status).toBe(200);
    expect(list.headers.get('content-type')).toBe('application/json');
    expect(((await list.json()) as any).data.map((t: any) => t.id)).toEqual(['default']);

    const created = await fetch(`${s.url}/admin/tenants`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'my-service', rate_limit_rpm: 100, budget_usd: 50.0 }),
    });
    expect(created.status).toBe(201);
    const tenant = (await created.json()) as any;
    expect(tenant).toMatchObject({ name: 'my-service', rate_limit_rpm: 100, budget_usd: 50 });
    const key: string = tenant.api_key;
    expect(key).toMatch(/^gw-/);

    const models = await fetch(`${s.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(models.status).toBe(200);

    const got = await fetch(`${s.url}/admin/tenants/${tenant.id}`);
    expect(await got.json()).toMatchObject({ id: tenant.id, keys: [{ prefix: key.slice(0, 10) }] });

    const put = await fetch(`${s.url}/admin/tenants/${tenant.id}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ rate_limit_rpm: 200, budget_usd: 100 }),
    });
    expect(await put.json()).toMatchObject({ rate_limit_rpm: 200, budget_usd: 100 });

    const rotated = await fetch(`${s.url}/admin/tenants/${tenant.id}/rotate-key`, { method: 'POST' });
    expect(rotated.status).toBe(200);
    const newKey: string = ((await rotated.json()) as any).api_key;
    expect((await fetch(`${s.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);
    expect((await fetch(`${s.url}/v1/models`, { headers: { authorization: `Bearer ${newKey}` } })).status).toBe(200);

    const del = await fetch(`${s.url}/admin/tenants/${tenant.id}`, { method: 'DELETE' });
    expect(del.status).toBe(204);
    expect(await del.text()).toBe('');
    expect((await fetch(`${s.url}/v1/models`, { headers: { authorization: `Bearer ${newKey}` } })).status).toBe(401);

    const trail = await s.local.stores.audit.list({ tenant_id: tenant.id });
    expect(trail.map((e) => e.action).sort()).toEqual(['tenant.create', 'tenant.delete', 'tenant.rotate_key', 'tenant.update']);
    expect(trail.every((e) => e.actor === 'anonymous')).toBe(true);
  });

  it('answers bad input in the OpenAI error shape', async () => {
    const badJson = await fetch(`${s.url}/admin/tenants`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":' });
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toMatchObject({ error: { code: 'invalid_json', type: 'invalid_request_error' } });
    const form = await fetch(`${s.url}/admin/tenants`, { method: 'POST', body: new URLSearchParams({ name: 'x' }) });
    expect(form.status).toBe(415);
    const unknown = await fetch(`${s.url}/admin/tenants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":"x","colour":"red"}',
    });
    expect(await unknown.json()).toMatchObject({ error: { param: 'colour' } });
    const wrong = await fetch(`${s.url}/admin/tenants`, { method: 'DELETE' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, POST');
    expect((await fetch(`${s.url}/admin/whatever`)).status).toBe(404);
  });
});

describe('admin API over HTTP, ADMIN_AUTH_ENABLED=true', () => {
  let s: Started;
  beforeAll(async () => {
    s = await start(true);
  });
  afterAll(() => s.close());

  it('401 with a Basic challenge without credentials; admin:admin works (curl -u admin:admin)', async () => {
    const anon = await fetch(`${s.url}/admin/tenants`);
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toMatch(/^Basic realm="ai-gateway-admin"/);
    expect(await anon.json()).toMatchObject({ error: { type: 'authentication_error' } });
    const ok = await fetch(`${s.url}/admin/tenants`, { headers: { authorization: basic('admin', 'admin') } });
    expect(ok.status).toBe(200);
  });

  it('a viewer created over HTTP can read but not write', async () => {
    const created = await fetch(`${s.url}/admin/users`, {
      method: 'POST',
      headers: { authorization: basic('admin', 'admin'), 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'watcher', password: 'watcher-password', role: 'viewer' }),
    });
    expect(created.status).toBe(201);
    const auth = { authorization: basic('watcher', 'watcher-password') };
    expect((await fetch(`${s.url}/admin/tenants/default`, { headers: auth })).status).toBe(200);
    const denied = await fetch(`${s.url}/admin/tenants/default`, { method: 'DELETE', headers: auth });
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ error: { type: 'permission_error', message: expect.stringContaining('tenant:delete') } });
  });
});
