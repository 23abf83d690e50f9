// The admin API behind its Lambda edge (middy over the HTTP API event), driven with API Gateway
// HTTP API v2 events derived from AWS's documented example (test/fixtures/apigw), over the real
// memory stores.
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { MemoryAdminUserRepository } from '../../functions/adapters/memory/admin-users';
import { MemoryAuditLog } from '../../functions/adapters/memory/audit-log';
import { MemoryTenantRepository } from '../../functions/adapters/memory/tenant-repository';
import { MemoryUsageStore } from '../../functions/adapters/memory/usage';
import { StoreConflictError, type AdminRole, type TenantRecord } from '../../functions/core/ports';
import type { Logger } from '../../functions/core/logger';
import type { UsageEvent } from '../../functions/core/ports';
import { DEFAULT_TENANT, hashApiKey } from '../../functions/core/tenants';
import { createAdminApi, type AdminDeps } from '../../functions/admin/api';
import { httpApiEdge, type HttpApiEdge } from '../../functions/adapters/lambda/http-api-edge';
import { ensureBootstrapAdmin } from '../../functions/admin/bootstrap';
import { hashPassword } from '../../functions/admin/passwords';
import type { Permission } from '../../functions/admin/rbac';
import { apigwEvent, type EventSpec } from '../fixtures/apigw/events';

/* eslint-disable @typescript-eslint/no-explicit-any -- parsed response JSON in assertions */
interface Reply {
  status: number;
  headers: Record<string, string>;
  raw: string;
  json: any;
}

const T0 = Date.parse('2026-03-10T12:00:00.000Z');
const PASSWORDS: Record<AdminRole, [string, string]> = {
  admin: ['admin', 'admin'],
  editor: ['ed', 'editor-password-1'],
  viewer: ['vi', 'viewer-password-1'],
};

async function invoke(handler: HttpApiEdge, event: APIGatewayProxyEventV2): Promise<Reply> {
  const result = await handler(event, {} as Context);
  const raw = result.body ?? '';
  const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)]));
  return { status: result.statusCode ?? 200, headers, raw, json: raw === '' ? undefined : JSON.parse(raw) };
}

function record(id: string, keyHash = `hash-${id}`): TenantRecord {
  const at = new Date(T0).toISOString();
  return { ...DEFAULT_TENANT, id, name: id, created_at: at, updated_at: at, keys: [{ hash: keyHash, prefix: 'gw-xxxxxxx', created_at: at }], version: 1 };
}

interface Env {
  clock: { now: number };
  tenants: MemoryTenantRepository;
  users: MemoryAdminUserRepository;
  audit: MemoryAuditLog;
  usage: MemoryUsageStore;
  handler: HttpApiEdge;
  logs: Array<{ level: string; message: string; fields?: Record<string, unknown> }>;
  /** Calls as a role's user (or with explicit auth / none in the spec). */
  as: (role: AdminRole | null, spec: EventSpec) => Promise<Reply>;
}

async function setup(opts: Partial<Pick<AdminDeps, 'authEnabled' | 'usage' | 'tenants' | 'tenantDefaults'>> & { noUsage?: boolean } = {}): Promise<Env> {
  const clock = { now: T0 };
  const now = () => clock.now;
  const tenants = new MemoryTenantRepository([], { now });
  const users = new MemoryAdminUserRepository();
  const audit = new MemoryAuditLog();
  const usage = new MemoryUsageStore();
  expect(await ensureBootstrapAdmin(users, { password: 'admin', now })).toBe(true);
  for (const role of ['editor', 'viewer'] as const) {
    const [username, password] = PASSWORDS[role];
    const at = new Date(T0).toISOString();
    await users.create({ username, role, password_hash: await hashPassword(password), created_at: at, updated_at: at });
  }
  const logs: Env['logs'] = [];
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) => void logs.push({ level, message, fields });
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  const api = createAdminApi({
    tenants: opts.tenants ?? tenants,
    users,
    audit,
    usage: opts.noUsage ? undefined : (opts.usage ?? usage),
    tenantDefaults: opts.tenantDefaults,
    authEnabled: opts.authEnabled ?? true,
    now,
    logger,
  });
  const handler = httpApiEdge(api, { maxBodyBytes: 1 << 20, logger, parseJson: true });
  const as = (role: AdminRole | null, spec: EventSpec) => invoke(handler, apigwEvent(role === null || spec.auth ? spec : { ...spec, auth: PASSWORDS[role] }));
  return { clock, tenants, users, audit, usage, handler, logs, as };
}

function expectError(reply: Reply, status: number, param?: string | null): void {
  expect(reply.status).toBe(status);
  expect(reply.headers['content-type']).toBe('application/json');
  expect(Object.keys(reply.json)).toEqual(['error']);
  expect(Object.keys(reply.json.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(typeof reply.json.error.message).toBe('string');
  if (param !== undefined) expect(reply.json.error.param).toBe(param);
}

describe('authentication', () => {
  let env: Env;
  beforeAll(async () => {
    env = await setup();
  });

  it('401 with a Basic challenge when credentials are missing', async () => {
    const r = await env.as(null, { method: 'GET', path: '/admin/tenants', sourceIp: '192.0.2.1' });
    expectError(r, 401);
    expect(r.headers['www-authenticate']).toMatch(/^Basic realm="ai-gateway-admin"/);
  });

  it.each([
    ['a wrong password', { auth: ['admin', 'nope'] as [string, string] }],
    ['an unknown user', { auth: ['ghost', 'whatever-password'] as [string, string] }],
    ['a Bearer token', { headers: { authorization: 'Bearer gw-default-key' } }],
    ['a malformed Basic header', { headers: { authorization: 'Basic %%%' } }],
    ['an over-long username (never looked up)', { auth: ['x'.repeat(2900), 'pw'] as [string, string] }],
  ])('401 for %s', async (label, extra) => {
    const r = await env.as(null, { method: 'GET', path: '/admin/tenants', sourceIp: `192.0.2.${10 + label.length}`, ...extra });
    expectError(r, 401);
    expect(r.headers['www-authenticate']).toContain('Basic realm="ai-gateway-admin"');
  });

  it('accepts the bootstrap admin:admin, and each role user', async () => {
    for (const role of ['admin', 'editor', 'viewer'] as const) {
      expect((await env.as(role, { method: 'GET', path: '/admin/tenants' })).status).toBe(200);
    }
  });

  it('logs failed logins with the username and the source address (API Gateway sourceIp), never the password', async () => {
    await env.as(null, { method: 'GET', path: '/admin/tenants', auth: ['ed', 'typo-Password-9'], sourceIp: '192.0.2.250' });
    await env.as(null, { method: 'GET', path: '/admin/tenants', auth: ['secret typed in user field!', 'pw'], sourceIp: '192.0.2.251' });
    const failed = env.logs.filter((l) => l.message === 'admin login failed');
    expect(failed.map((l) => l.fields)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ username: 'ed', source_address: '192.0.2.250' }),
        expect.objectContaining({ username: '(not a valid username)', source_address: '192.0.2.251' }),
      ]),
    );
    const line = JSON.stringify(failed);
    expect(line).not.toContain('typo-Password-9');
    expect(line).not.toContain('secret typed in user field');
  });

  it('throttles a (username, source IP) pair after 5 failures (429 + Retry-After), not the username everywhere', async () => {
    const e = await setup();
    for (let i = 0; i < 5; i++) {
      expect((await e.as(null, { method: 'GET', path: '/admin/tenants', auth: ['ed', 'wrong'], sourceIp: '198.51.100.1' })).status).toBe(401);
    }
    const blocked = await e.as('editor', { method: 'GET', path: '/admin/tenants', sourceIp: '198.51.100.1' });
    expectError(blocked, 429);
    expect(blocked.headers['retry-after']).toBe('300');
    // The same user from elsewhere, and other users from that address, are not affected.
    expect((await e.as('editor', { method: 'GET', path: '/admin/tenants', sourceIp: '198.51.100.99' })).status).toBe(200);
    expect((await e.as('viewer', { method: 'GET', path: '/admin/tenants', sourceIp: '198.51.100.1' })).status).toBe(200);
    e.clock.now += 5 * 60_000;
    expect((await e.as('editor', { method: 'GET', path: '/admin/tenants', sourceIp: '198.51.100.1' })).status).toBe(200);
  });

  it('throttles a source IP across usernames (20 failures)', async () => {
    const e = await setup();
    for (let i = 0; i < 20; i++) {
      await e.as(null, { method: 'GET', path: '/admin/tenants', auth: [`guess${i}`, 'wrong'], sourceIp: '203.0.113.7' });
    }
    expectError(await e.as('admin', { method: 'GET', path: '/admin/tenants', sourceIp: '203.0.113.7' }), 429);
    expect((await e.as('admin', { method: 'GET', path: '/admin/tenants', sourceIp: '203.0.113.8' })).status).toBe(200);
  });

  it('a success resets its (username, IP) counter', async () => {
    const e = await setup();
    for (let i = 0; i < 4; i++) await e.as(null, { method: 'GET', path: '/admin/tenants', auth: ['vi', 'wrong'], sourceIp: '10.0.0.1' });
    expect((await e.as('viewer', { method: 'GET', path: '/admin/tenants', sourceIp: '10.0.0.1' })).status).toBe(200);
    for (let i = 0; i < 4; i++) await e.as(null, { method: 'GET', path: '/admin/tenants', auth: ['vi', 'wrong'], sourceIp: '10.0.0.1' });
    expect((await e.as('viewer', { method: 'GET', path: '/admin/tenants', sourceIp: '10.0.0.1' })).status).toBe(200);
  });

  it('with auth disabled every request is the built-in admin "anonymous"', async () => {
    const e = await setup({ authEnabled: false });
    const created = await e.as(null, { method: 'POST', path: '/admin/tenants', body: { name: 'anon-made' } });
    expect(created.status).toBe(201);
    expect((await e.as(null, { method: 'GET', path: '/admin/users' })).status).toBe(200);
    const [entry] = await e.audit.list({});
    expect(entry).toMatchObject({ actor: 'anonymous', action: 'tenant.create', tenant_id: created.json.id });
  });
});

describe('routing and body parsing', () => {
  let env: Env;
  beforeAll(async () => {
    env = await setup();
  });

  it.each(['/admin', '/admin/nope', '/admin/tenants/a/b/c', '/v1/models'])('404 for %s', async (path) => {
    expectError(await env.as('admin', { method: 'GET', path }), 404);
  });

  it('405 with Allow for a wrong method', async () => {
    const r = await env.as('admin', { method: 'PATCH', path: '/admin/tenants/x' });
    expectError(r, 405);
    expect(r.headers.allow).toBe('GET, PUT, DELETE');
  });

  it('400 naming the problem for malformed JSON, without echoing the body', async () => {
    const r = await env.as('admin', {
      method: 'POST',
      path: '/admin/users',
      body: '{"username":"x","password":"hunter2hunter2"',
      headers: { 'content-type': 'application/json' },
    });
    expectError(r, 400);
    expect(r.json.error.code).toBe('invalid_json');
    expect(r.json.error.message).toMatch(/not valid JSON/);
    expect(r.raw).not.toContain('hunter2');
  });

  it('415 for a non-JSON content type', async () => {
    const r = await env.as('admin', {
      method: 'POST',
      path: '/admin/tenants',
      body: 'name=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectError(r, 415);
    expect(r.json.error.code).toBe('unsupported_media_type');
    expectError(await env.as('admin', { method: 'POST', path: '/admin/tenants', body: '{"name":"x"}' }), 415);
  });

  it('accepts application/*+json, a capitalised Content-Type and a base64 body', async () => {
    const r1 = await env.as('admin', {
      method: 'POST',
      path: '/admin/tenants',
      body: '{"name":"vnd"}',
      headers: { 'Content-Type': 'application/vnd.api+json; charset=utf-8' },
    });
    expect(r1.status).toBe(201);
    const r2 = await env.as('admin', { method: 'POST', path: '/admin/tenants', body: { name: 'b64' }, base64: true });
    expect(r2.status).toBe(201);
    expect(r2.json.name).toBe('b64');
  });

  it('400 for a missing or non-object body', async () => {
    expectError(await env.as('admin', { method: 'POST', path: '/admin/tenants' }), 400);
    expectError(await env.as('admin', { method: 'POST', path: '/admin/tenants', body: [] }), 400);
    expectError(await env.as('admin', { method: 'POST', path: '/admin/tenants', body: '"x"', headers: { 'content-type': 'application/json' } }), 400);
  });

  it('ignores a body on GET and DELETE (no Content-Type demanded)', async () => {
    expect((await env.as('admin', { method: 'GET', path: '/admin/tenants', body: 'junk' })).status).toBe(200);
  });

  it('routes a named stage prefix (execute-api URL) like the $default stage', async () => {
    const event = apigwEvent({ method: 'GET', path: '/prod/admin/tenants', auth: PASSWORDS.admin });
    event.requestContext.stage = 'prod';
    expect((await invoke(env.handler, event)).status).toBe(200);
  });

  it('responses are never cacheable', async () => {
    const r = await env.as('admin', { method: 'GET', path: '/admin/tenants' });
    expect(r.headers['cache-control']).toBe('no-store');
  });

  it('an unexpected store failure is a 500 in the OpenAI shape, logged without details to the client', async () => {
    const broken = new MemoryTenantRepository([]);
    broken.list = async () => {
      throw new Error('connection reset by peer at 10.0.0.5');
    };
    const e = await setup({ tenants: broken });
    const r = await e.as('admin', { method: 'GET', path: '/admin/tenants' });
    expectError(r, 500);
    expect(r.raw).not.toContain('10.0.0.5');
    expect(e.logs.some((l) => l.level === 'error' && JSON.stringify(l.fields).includes('connection reset'))).toBe(true);
  });
});

describe('tenants', () => {
  let env: Env;
  beforeAll(async () => {
    env = await setup();
  });

  it('POST creates with the seed example body: 201, defaults, a gw- key shown once', async () => {
    const r = await env.as('admin', { method: 'POST', path: '/admin/tenants', body: { name: 'my-service', rate_limit_rpm: 100, budget_usd: 50.0 } });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({
      name: 'my-service',
      enabled: true,
      rate_limit_rpm: 100,
      rate_limit_tpm: 0,
      budget_usd: 50,
      allow_overage: false,
      allowed_models: [],
      default_provider: null,
      fallback_providers: null,
    });
    expect(r.json.id).toMatch(/^my-service-[a-z0-9]{6}$/);
    expect(r.json.api_key).toMatch(/^gw-[A-Za-z0-9_-]{43}$/);
    expect(r.json.keys).toEqual([{ prefix: r.json.api_key.slice(0, 10), created_at: new Date(T0).toISOString(), expires_at: null }]);
    expect(r.raw).not.toContain(hashApiKey(r.json.api_key));
    // The key authenticates on the hot path at once.
    expect(await env.tenants.findByKeyHash(hashApiKey(r.json.api_key))).toMatchObject({ id: r.json.id, rate_limit_rpm: 100 });
  });

  it('POST without limits gives the configured tenant defaults (TENANT_DEFAULT_*); given fields win', async () => {
    const own = await setup({ tenantDefaults: { rate_limit_rpm: 60, rate_limit_tpm: 50_000, budget_usd: 25 } });
    const plain = await own.as('admin', { method: 'POST', path: '/admin/tenants', body: { name: 'plain' } });
    expect(plain.json).toMatchObject({ rate_limit_rpm: 60, rate_limit_tpm: 50_000, budget_usd: 25 });
    const set = await own.as('admin', { method: 'POST', path: '/admin/tenants', body: { name: 'set', rate_limit_rpm: 0, budget_usd: 500 } });
    expect(set.json).toMatchObject({ rate_limit_rpm: 0, rate_limit_tpm: 50_000, budget_usd: 500 });
  });

  it('POST with an id uses it; a duplicate id is 409 naming id', async () => {
    const r = await env.as('admin', {
      method: 'POST',
      path: '/admin/tenants',
      body: { id: 'team-a', name: 'Team A', default_provider: 'openai', fallback_providers: ['anthropic'] },
    });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ id: 'team-a', default_provider: 'openai', fallback_providers: ['anthropic'] });
    expectError(await env.as('admin', { method: 'POST', path: '/admin/tenants', body: { id: 'team-a', name: 'again' } }), 409, 'id');
  });

  it('a name with nothing slug-safe still gets a valid id', async () => {
    const r = await env.as('admin', { method: 'POST', path: '/admin/tenants', body: { name: '!!!' } });
    expect(r.json.id).toMatch(/^t-[a-z0-9]{6}$/);
  });

  it('GET lists and reads tenants without key hashes or plaintext keys', async () => {
    const list = await env.as('viewer', { method: 'GET', path: '/admin/tenants' });
    expect(list.status).toBe(200);
    expect(list.json.object).toBe('list');
    expect(list.json.data.map((t: any) => t.id)).toContain('team-a');
    for (const t of list.json.data) {
      expect(t.api_key).toBeUndefined();
      for (const k of t.keys) expect(Object.keys(k).sort()).toEqual(['created_at', 'expires_at', 'prefix']);
    }
    const one = await env.as('viewer', { method: 'GET', path: '/admin/tenants/team-a' });
    expect(one.status).toBe(200);
    expect(one.json.id).toBe('team-a');
    expect(one.json.api_key).toBeUndefined();
    expect(one.raw).not.toMatch(/[0-9a-f]{64}/);
  });

  it('GET/PUT/DELETE/rotate of a missing tenant is 404', async () => {
    expectError(await env.as('admin', { method: 'GET', path: '/admin/tenants/nope' }), 404);
    expectError(await env.as('admin', { method: 'GET', path: '/admin/tenants/NOT_AN_ID' }), 404);
    expectError(await env.as('admin', { method: 'PUT', path: '/admin/tenants/nope', body: { enabled: false } }), 404);
    expectError(await env.as('admin', { method: 'DELETE', path: '/admin/tenants/nope' }), 404);
    expectError(await env.as('admin', { method: 'POST', path: '/admin/tenants/nope/rotate-key' }), 404);
    expectError(await env.as('admin', { method: 'GET', path: '/admin/tenants/nope/usage' }), 404);
  });

  it('PUT updates only the given fields and bumps the version', async () => {
    const before = await env.tenants.get('team-a');
    env.clock.now += 1000;
    const r = await env.as('editor', { method: 'PUT', path: '/admin/tenants/team-a', body: { rate_limit_rpm: 200, budget_usd: 100, default_provider: null } });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      id: 'team-a',
      name: 'Team A',
      rate_limit_rpm: 200,
      budget_usd: 100,
      default_provider: null,
      fallback_providers: ['anthropic'],
    });
    expect(r.json.updated_at).toBe(new Date(env.clock.now).toISOString());
    const after = await env.tenants.get('team-a');
    expect(after?.version).toBe((before?.version ?? 0) + 1);
    expect(after?.keys).toEqual(before?.keys);
    const [entry] = await env.audit.list({ tenant_id: 'team-a', limit: 1 });
    expect(entry).toMatchObject({ action: 'tenant.update', actor: 'ed', details: { changed: ['rate_limit_rpm', 'budget_usd', 'default_provider'] } });
  });

  it('PUT with nothing that changes writes nothing and audits nothing', async () => {
    const before = await env.tenants.get('team-a');
    const auditBefore = (await env.audit.list({})).length;
    const r = await env.as('admin', { method: 'PUT', path: '/admin/tenants/team-a', body: { rate_limit_rpm: 200 } });
    expect(r.status).toBe(200);
    expect((await env.tenants.get('team-a'))?.version).toBe(before?.version);
    expect((await env.audit.list({})).length).toBe(auditBefore);
  });

  const createErrors: Array<[Record<string, unknown>, string]> = [
    [{}, 'name'],
    [{ name: '' }, 'name'],
    [{ name: 'x'.repeat(101) }, 'name'],
    [{ name: 'a', id: 'Bad Id' }, 'id'],
    [{ name: 'a', enabled: 'yes' }, 'enabled'],
    [{ name: 'a', rate_limit_rpm: -1 }, 'rate_limit_rpm'],
    [{ name: 'a', rate_limit_rpm: 2.5 }, 'rate_limit_rpm'],
    [{ name: 'a', rate_limit_tpm: '100' }, 'rate_limit_tpm'],
    [{ name: 'a', budget_usd: -1 }, 'budget_usd'],
    [{ name: 'a', budget_usd: null }, 'budget_usd'],
    [{ name: 'a', allow_overage: 'false' }, 'allow_overage'],
    [{ name: 'a', allowed_models: [''] }, 'allowed_models'],
    [{ name: 'a', allowed_models: {} }, 'allowed_models'],
    [{ name: 'a', default_provider: 'azure' }, 'default_provider'],
    [{ name: 'a', fallback_providers: ['openai', 'nope'] }, 'fallback_providers'],
    [{ name: 'a', api_key: 'gw-mine' }, 'api_key'],
    [{ name: 'a', keys: [] }, 'keys'],
  ];
  it.each(createErrors)('POST %j → 400 with param %s', async (body, param) => {
    expectError(await env.as('admin', { method: 'POST', path: '/admin/tenants', body }), 400, param);
  });

  const updateErrors: Array<[Record<string, unknown>, string]> = [
    [{ id: 'other' }, 'id'],
    [{ name: '' }, 'name'],
    [{ enabled: 1 }, 'enabled'],
    [{ rate_limit_rpm: -5 }, 'rate_limit_rpm'],
    [{ rate_limit_tpm: 0.5 }, 'rate_limit_tpm'],
    [{ budget_usd: 'lots' }, 'budget_usd'],
    [{ allow_overage: null }, 'allow_overage'],
    [{ allowed_models: [3] }, 'allowed_models'],
    [{ default_provider: 'gemini' }, 'default_provider'],
    [{ fallback_providers: 'openai' }, 'fallback_providers'],
    [{ version: 7 }, 'version'],
  ];
  it.each(updateErrors)('PUT %j → 400 with param %s', async (body, param) => {
    expectError(await env.as('admin', { method: 'PUT', path: '/admin/tenants/team-a', body }), 400, param);
  });

  it('DELETE removes the tenant (204) and its key stops working at once', async () => {
    const created = await env.as('admin', { method: 'POST', path: '/admin/tenants', body: { id: 'doomed', name: 'doomed' } });
    const keyHash = hashApiKey(created.json.api_key);
    expect(await env.tenants.findByKeyHash(keyHash)).not.toBeNull();
    const r = await env.as('admin', { method: 'DELETE', path: '/admin/tenants/doomed' });
    expect(r.status).toBe(204);
    expect(r.raw).toBe('');
    expect(await env.tenants.findByKeyHash(keyHash)).toBeNull();
    expectError(await env.as('admin', { method: 'GET', path: '/admin/tenants/doomed' }), 404);
  });
});

describe('version-conditional updates', () => {
  async function withConflicts(failures: number): Promise<{ reply: Reply; attempts: number }> {
    const repo = new MemoryTenantRepository([]);
    await repo.create(record('racy'));
    let attempts = 0;
    const realUpdate = repo.update.bind(repo);
    repo.update = async (r) => {
      attempts += 1;
      if (attempts <= failures) throw new StoreConflictError('lost the race');
      return realUpdate(r);
    };
    const e = await setup({ tenants: repo });
    const reply = await e.as('admin', { method: 'PUT', path: '/admin/tenants/racy', body: { budget_usd: 7 } });
    return { reply, attempts };
  }

  it('retries a lost race up to 3 times', async () => {
    const { reply, attempts } = await withConflicts(3);
    expect(reply.status).toBe(200);
    expect(reply.json.budget_usd).toBe(7);
    expect(attempts).toBe(4);
  });

  it('then gives up with 409', async () => {
    const { reply, attempts } = await withConflicts(4);
    expectError(reply, 409);
    expect(reply.json.error.code).toBe('conflict');
    expect(attempts).toBe(4);
  });
});

describe('key rotation', () => {
  let env: Env;
  let oldKey: string;
  beforeEach(async () => {
    env = await setup();
    oldKey = (await env.as('admin', { method: 'POST', path: '/admin/tenants', body: { id: 'rot', name: 'rot' } })).json.api_key;
  });

  it('without grace: the new key works at once and the old one stops at once', async () => {
    const r = await env.as('editor', { method: 'POST', path: '/admin/tenants/rot/rotate-key' });
    expect(r.status).toBe(200);
    expect(r.json.api_key).toMatch(/^gw-/);
    expect(r.json.api_key).not.toBe(oldKey);
    expect(await env.tenants.findByKeyHash(hashApiKey(r.json.api_key))).toMatchObject({ id: 'rot' });
    expect(await env.tenants.findByKeyHash(hashApiKey(oldKey))).toBeNull();
    expect(r.json.keys).toEqual([{ prefix: r.json.api_key.slice(0, 10), created_at: new Date(T0).toISOString(), expires_at: null }]);
    const entry = (await env.audit.list({ tenant_id: 'rot' })).find((e) => e.action === 'tenant.rotate_key');
    expect(entry).toMatchObject({ actor: 'ed', details: { grace_seconds: 0 } });
    expect(JSON.stringify(entry)).not.toContain(r.json.api_key.slice(3, 13));
  });

  it('with grace: the old key works until now + grace, then stops', async () => {
    const r = await env.as('admin', { method: 'POST', path: '/admin/tenants/rot/rotate-key', body: { grace_seconds: 600 } });
    expect(r.status).toBe(200);
    const newKey: string = r.json.api_key;
    const graceEnd = new Date(T0 + 600_000).toISOString();
    expect(r.json.keys).toEqual([
      { prefix: oldKey.slice(0, 10), created_at: new Date(T0).toISOString(), expires_at: graceEnd },
      { prefix: newKey.slice(0, 10), created_at: new Date(T0).toISOString(), expires_at: null },
    ]);
    expect(await env.tenants.findByKeyHash(hashApiKey(oldKey))).toMatchObject({ id: 'rot' });
    expect(await env.tenants.findByKeyHash(hashApiKey(newKey))).toMatchObject({ id: 'rot' });
    env.clock.now = T0 + 599_999;
    expect(await env.tenants.findByKeyHash(hashApiKey(oldKey))).toMatchObject({ id: 'rot' });
    env.clock.now = T0 + 600_000;
    expect(await env.tenants.findByKeyHash(hashApiKey(oldKey))).toBeNull();
    expect(await env.tenants.findByKeyHash(hashApiKey(newKey))).toMatchObject({ id: 'rot' });
    // The expired key no longer shows.
    const view = await env.as('admin', { method: 'GET', path: '/admin/tenants/rot' });
    expect(view.json.keys.map((k: any) => k.prefix)).toEqual([newKey.slice(0, 10)]);
  });

  it('a second rotation inside the grace keeps the first grace end and cuts nothing short', async () => {
    await env.as('admin', { method: 'POST', path: '/admin/tenants/rot/rotate-key', body: { grace_seconds: 600 } });
    env.clock.now = T0 + 60_000;
    const second = await env.as('admin', { method: 'POST', path: '/admin/tenants/rot/rotate-key', body: { grace_seconds: 3600 } });
    const expiries = second.json.keys.map((k: any) => k.expires_at);
    expect(expiries).toEqual([new Date(T0 + 600_000).toISOString(), new Date(T0 + 60_000 + 3_600_000).toISOString(), null]);
  });

  it.each([[-1], [1.5], ['60'], [null], [31 * 24 * 3600]])('grace_seconds %p → 400 naming it', async (grace) => {
    expectError(await env.as('admin', { method: 'POST', path: '/admin/tenants/rot/rotate-key', body: { grace_seconds: grace } }), 400, 'grace_seconds');
  });

  it('unknown rotate fields → 400', async () => {
    expectError(await env.as('admin', { method: 'POST', path: '/admin/tenants/rot/rotate-key', body: { grace: 5 } }), 400, 'grace');
  });
});

describe('usage', () => {
  let env: Env;
  const event = (over: Partial<UsageEvent>): UsageEvent => ({
    request_id: Math.random().toString(36),
    tenant_id: 'acme',
    provider: 'openai',
    model: 'gpt-4o',
    prompt_tokens: 10,
    completion_tokens: 5,
    cached_tokens: 0,
    cache_write_tokens: 0,
    reasoning_tokens: 0,
    cost_usd: 0.01,
    latency_ms: 100,
    cache_hit: false,
    status: 200,
    stream: false,
    timestamp: '2026-03-01T10:00:00.000Z',
    budget_usd: 0,
    ...over,
  });

  beforeAll(async () => {
    env = await setup();
    await env.tenants.create(record('acme'));
    env.usage.applyNow(event({ timestamp: '2026-03-01T10:00:00.000Z' }));
    env.usage.applyNow(event({ timestamp: '2026-03-01T11:00:00.000Z', cache_hit: true }));
    env.usage.applyNow(event({ timestamp: '2026-03-03T09:00:00.000Z', cost_usd: 0.5 }));
    env.usage.applyNow(event({ timestamp: '2026-02-20T09:00:00.000Z', cost_usd: 9 }));
    env.usage.applyNow(event({ timestamp: '2026-02-25T09:00:00.000Z', model: 'claude-haiku-4-5', provider: 'anthropic', cost_usd: 0.25 }));
  });

  it('defaults to the current month up to now', async () => {
    const r = await env.as('viewer', { method: 'GET', path: '/admin/tenants/acme/usage' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      object: 'tenant.usage',
      tenant_id: 'acme',
      from: '2026-03-01T00:00:00.000Z',
      to: new Date(T0).toISOString(),
      group_by: null,
      totals: { request_count: 3, prompt_tokens: 30, completion_tokens: 15, cost_usd: 0.52, cache_hits: 1, errors: 0 },
    });
  });

  it('group_by=day returns one group per day of the range', async () => {
    const r = await env.as('viewer', { method: 'GET', path: '/admin/tenants/acme/usage?from=2026-02-28&to=2026-03-03&group_by=day' });
    expect(r.status).toBe(200);
    expect(r.json.group_by).toBe('day');
    expect(r.json.totals.request_count).toBe(3);
    expect(r.json.groups.map((g: any) => [g.day, g.request_count])).toEqual([
      ['2026-02-28', 0],
      ['2026-03-01', 2],
      ['2026-03-02', 0],
      ['2026-03-03', 1],
    ]);
  });

  it('group_by=model groups the range per model', async () => {
    const r = await env.as('viewer', { method: 'GET', path: '/admin/tenants/acme/usage?from=2026-02-01&to=2026-03-03&group_by=model' });
    expect(r.status).toBe(200);
    expect(r.json.group_by).toBe('model');
    expect(r.json.groups).toEqual([
      { model: 'claude-haiku-4-5', request_count: 1, prompt_tokens: 10, completion_tokens: 5, cost_usd: 0.25, cache_hits: 0, errors: 0 },
      { model: 'gpt-4o', request_count: 4, prompt_tokens: 40, completion_tokens: 20, cost_usd: 9.52, cache_hits: 1, errors: 0 },
    ]);
    expect(r.json.totals).toMatchObject({ request_count: 5, cost_usd: 9.77 });
  });

  it.each([
    ['from=yesterday', 'from'],
    ['from=2026-02-30', 'from'],
    ['to=2026-13-01', 'to'],
    ['from=2026-03-05&to=2026-03-01', 'from'],
    ['group_by=week', 'group_by'],
    ['from=2024-01-01&to=2026-01-01&group_by=day', 'group_by'],
  ])('%s → 400 naming %s', async (query, param) => {
    expectError(await env.as('viewer', { method: 'GET', path: `/admin/tenants/acme/usage?${query}` }), 400, param);
  });

  it('without a usage store: zero totals and a note', async () => {
    const e = await setup({ noUsage: true });
    await e.tenants.create(record('acme'));
    const r = await e.as('admin', { method: 'GET', path: '/admin/tenants/acme/usage?group_by=day' });
    expect(r.status).toBe(200);
    expect(r.json.totals).toEqual({ request_count: 0, prompt_tokens: 0, completion_tokens: 0, cost_usd: 0, cache_hits: 0, errors: 0 });
    expect(r.json.note).toMatch(/No usage store/);
  });
});

describe('admin users', () => {
  let env: Env;
  beforeAll(async () => {
    env = await setup();
  });

  it('POST creates a user (201) without ever returning the password hash', async () => {
    const r = await env.as('admin', { method: 'POST', path: '/admin/users', body: { username: 'carol', password: 'carol-password-1', role: 'editor' } });
    expect(r.status).toBe(201);
    expect(r.json).toEqual({ username: 'carol', role: 'editor', created_at: new Date(T0).toISOString(), updated_at: new Date(T0).toISOString() });
    // The new user can log in and acts with its role.
    expect((await env.as(null, { method: 'GET', path: '/admin/tenants', auth: ['carol', 'carol-password-1'] })).status).toBe(200);
    expectError(await env.as(null, { method: 'GET', path: '/admin/users', auth: ['carol', 'carol-password-1'] }), 403);
  });

  it('GET lists and reads users without hashes', async () => {
    const list = await env.as('admin', { method: 'GET', path: '/admin/users' });
    expect(list.json.data.map((u: any) => u.username)).toEqual(['admin', 'carol', 'ed', 'vi']);
    expect(list.raw).not.toContain('password_hash');
    expect(list.raw).not.toContain('scrypt$');
    const one = await env.as('admin', { method: 'GET', path: '/admin/users/carol' });
    expect(one.json).toMatchObject({ username: 'carol', role: 'editor' });
    expect(one.raw).not.toContain('scrypt$');
    expectError(await env.as('admin', { method: 'GET', path: '/admin/users/nobody' }), 404);
  });

  it.each([
    [{ username: 'x', password: 'short', role: 'viewer' }, 'password'],
    [{ username: 'x', role: 'viewer' }, 'password'],
    [{ username: 'x', password: 'long-enough-pw', role: 'root' }, 'role'],
    [{ username: 'x', password: 'long-enough-pw' }, 'role'],
    [{ username: 'bad:name', password: 'long-enough-pw', role: 'viewer' }, 'username'],
    [{ password: 'long-enough-pw', role: 'viewer' }, 'username'],
    [{ username: 'x', password: 'long-enough-pw', role: 'viewer', admin: true }, 'admin'],
    [{ username: 'carol', password: 'long-enough-pw', role: 'viewer' }, 'username'],
  ] as Array<[Record<string, unknown>, string]>)('POST %j → 4xx naming %s, never echoing the password', async (body, param) => {
    const r = await env.as('admin', { method: 'POST', path: '/admin/users', body });
    expectError(r, body.username === 'carol' ? 409 : 400, param);
    expect(r.raw).not.toContain('long-enough-pw');
  });

  it('PUT changes role and password; the old password stops working', async () => {
    env.clock.now += 1; // audit order is by time
    const r = await env.as('admin', { method: 'PUT', path: '/admin/users/carol', body: { role: 'viewer', password: 'carol-password-2' } });
    expect(r.status).toBe(200);
    expect(r.json.role).toBe('viewer');
    expectError(await env.as(null, { method: 'GET', path: '/admin/tenants', auth: ['carol', 'carol-password-1'], sourceIp: '10.9.9.1' }), 401);
    expect((await env.as(null, { method: 'GET', path: '/admin/tenants', auth: ['carol', 'carol-password-2'], sourceIp: '10.9.9.2' })).status).toBe(200);
    const [entry] = await env.audit.list({ limit: 1 });
    expect(entry).toMatchObject({ action: 'user.update', actor: 'admin', details: { username: 'carol', role: 'viewer', changed: ['role', 'password'] } });
    expect(JSON.stringify(entry)).not.toContain('carol-password');
  });

  it('PUT validates', async () => {
    expectError(await env.as('admin', { method: 'PUT', path: '/admin/users/carol', body: { password: 'short' } }), 400, 'password');
    expectError(await env.as('admin', { method: 'PUT', path: '/admin/users/carol', body: { username: 'renamed' } }), 400, 'username');
    expectError(await env.as('admin', { method: 'PUT', path: '/admin/users/nobody', body: { role: 'viewer' } }), 404);
  });

  it('the last admin can be neither demoted nor deleted', async () => {
    expectError(await env.as('admin', { method: 'PUT', path: '/admin/users/admin', body: { role: 'viewer' } }), 409, 'role');
    expectError(await env.as('admin', { method: 'DELETE', path: '/admin/users/admin' }), 409);
    await env.as('admin', { method: 'PUT', path: '/admin/users/carol', body: { role: 'admin' } });
    expect((await env.as('admin', { method: 'PUT', path: '/admin/users/carol', body: { role: 'editor' } })).status).toBe(200);
  });

  it('DELETE removes a user (204) whose credentials stop working at once', async () => {
    expect((await env.as('admin', { method: 'DELETE', path: '/admin/users/carol' })).status).toBe(204);
    expectError(await env.as(null, { method: 'GET', path: '/admin/tenants', auth: ['carol', 'carol-password-2'], sourceIp: '10.9.9.3' }), 401);
    expectError(await env.as('admin', { method: 'DELETE', path: '/admin/users/carol' }), 404);
  });
});

describe('audit trail', () => {
  it('records every write with its actor, and no key or password anywhere outside create/rotate responses', async () => {
    const env = await setup();
    const tick = () => {
      env.clock.now += 1;
    };
    const seen: string[] = [];
    const call = async (role: AdminRole, spec: EventSpec) => {
      tick();
      const r = await env.as(role, spec);
      seen.push(r.raw);
      return r;
    };
    const created = await call('editor', { method: 'POST', path: '/admin/tenants', body: { id: 'aud', name: 'aud' } });
    await call('editor', { method: 'PUT', path: '/admin/tenants/aud', body: { budget_usd: 1 } });
    const rotated = await call('admin', { method: 'POST', path: '/admin/tenants/aud/rotate-key', body: { grace_seconds: 60 } });
    await call('admin', { method: 'POST', path: '/admin/users', body: { username: 'dave', password: 'dave-password-1', role: 'viewer' } });
    await call('admin', { method: 'PUT', path: '/admin/users/dave', body: { role: 'editor' } });
    await call('admin', { method: 'DELETE', path: '/admin/users/dave' });
    await call('admin', { method: 'DELETE', path: '/admin/tenants/aud' });
    const keys: string[] = [created.json.api_key, rotated.json.api_key];

    const all = await call('admin', { method: 'GET', path: '/admin/audit' });
    expect(all.status).toBe(200);
    expect(all.json.data.map((e: any) => [e.action, e.actor, e.tenant_id ?? null])).toEqual([
      ['tenant.delete', 'admin', 'aud'],
      ['user.delete', 'admin', null],
      ['user.update', 'admin', null],
      ['user.create', 'admin', null],
      ['tenant.rotate_key', 'admin', 'aud'],
      ['tenant.update', 'ed', 'aud'],
      ['tenant.create', 'ed', 'aud'],
    ]);
    for (const e of all.json.data) {
      expect(e.id).toEqual(expect.any(String));
      expect(Date.parse(e.at)).toBeGreaterThan(T0);
    }
    expect(all.json.data.find((e: any) => e.action === 'tenant.create').details).toEqual({ fields: ['name'] });
    const filtered = await call('admin', { method: 'GET', path: '/admin/audit?tenant_id=aud&limit=2' });
    expect(filtered.json.data.map((e: any) => e.action)).toEqual(['tenant.delete', 'tenant.rotate_key']);
    expectError(await call('admin', { method: 'GET', path: '/admin/audit?limit=0' }), 400, 'limit');
    expectError(await call('admin', { method: 'GET', path: '/admin/audit?limit=abc' }), 400, 'limit');
    expectError(await call('admin', { method: 'GET', path: '/admin/audit?tenant_id=Not%20An%20Id' }), 400, 'tenant_id');

    // Plaintext keys only in the two responses that mint them; hashes and passwords nowhere.
    const stored = JSON.stringify(await env.audit.list({ limit: 1000 }));
    for (const key of keys) {
      expect(stored).not.toContain(key);
      expect(stored).not.toContain(hashApiKey(key));
      const carriers = seen.filter((raw) => raw.includes(key));
      expect(carriers).toHaveLength(1);
      for (const raw of seen) expect(raw).not.toContain(hashApiKey(key));
    }
    expect(stored).not.toContain('dave-password-1');
    expect(seen.join('\n')).not.toContain('scrypt$');
  });
});

describe('RBAC matrix: 3 roles × every route', () => {
  type Case = { route: string; permission: Permission; ok: number; make: (env: Env, n: string) => Promise<EventSpec> };
  const seedTenant = async (env: Env, id: string) => env.tenants.create(record(id));
  const seedUser = async (env: Env, username: string) =>
    env.users.create({
      username,
      role: 'viewer',
      password_hash: 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
      created_at: 'x',
      updated_at: 'x',
    });
  const cases: Case[] = [
    { route: 'GET /admin/tenants', permission: 'tenant:read', ok: 200, make: async () => ({ method: 'GET', path: '/admin/tenants' }) },
    {
      route: 'POST /admin/tenants',
      permission: 'tenant:write',
      ok: 201,
      make: async (_e, n) => ({ method: 'POST', path: '/admin/tenants', body: { id: `new-${n}`, name: n } }),
    },
    {
      route: 'GET /admin/tenants/{id}',
      permission: 'tenant:read',
      ok: 200,
      make: async (e, n) => (await seedTenant(e, n), { method: 'GET', path: `/admin/tenants/${n}` }),
    },
    {
      route: 'PUT /admin/tenants/{id}',
      permission: 'tenant:write',
      ok: 200,
      make: async (e, n) => (await seedTenant(e, n), { method: 'PUT', path: `/admin/tenants/${n}`, body: { budget_usd: 5 } }),
    },
    {
      route: 'DELETE /admin/tenants/{id}',
      permission: 'tenant:delete',
      ok: 204,
      make: async (e, n) => (await seedTenant(e, n), { method: 'DELETE', path: `/admin/tenants/${n}` }),
    },
    {
      route: 'POST /admin/tenants/{id}/rotate-key',
      permission: 'tenant:write',
      ok: 200,
      make: async (e, n) => (await seedTenant(e, n), { method: 'POST', path: `/admin/tenants/${n}/rotate-key` }),
    },
    {
      route: 'GET /admin/tenants/{id}/usage',
      permission: 'usage:read',
      ok: 200,
      make: async (e, n) => (await seedTenant(e, n), { method: 'GET', path: `/admin/tenants/${n}/usage` }),
    },
    { route: 'GET /admin/users', permission: 'admin:manage', ok: 200, make: async () => ({ method: 'GET', path: '/admin/users' }) },
    {
      route: 'POST /admin/users',
      permission: 'admin:manage',
      ok: 201,
      make: async (_e, n) => ({ method: 'POST', path: '/admin/users', body: { username: n, password: 'twelve-chars', role: 'viewer' } }),
    },
    {
      route: 'GET /admin/users/{username}',
      permission: 'admin:manage',
      ok: 200,
      make: async (e, n) => (await seedUser(e, n), { method: 'GET', path: `/admin/users/${n}` }),
    },
    {
      route: 'PUT /admin/users/{username}',
      permission: 'admin:manage',
      ok: 200,
      make: async (e, n) => (await seedUser(e, n), { method: 'PUT', path: `/admin/users/${n}`, body: { role: 'editor' } }),
    },
    {
      route: 'DELETE /admin/users/{username}',
      permission: 'admin:manage',
      ok: 204,
      make: async (e, n) => (await seedUser(e, n), { method: 'DELETE', path: `/admin/users/${n}` }),
    },
    { route: 'GET /admin/audit', permission: 'admin:manage', ok: 200, make: async () => ({ method: 'GET', path: '/admin/audit' }) },
  ];
  const ALLOWED: Record<AdminRole, Permission[]> = {
    admin: ['tenant:read', 'tenant:write', 'tenant:delete', 'usage:read', 'admin:manage'],
    editor: ['tenant:read', 'tenant:write', 'usage:read'],
    viewer: ['tenant:read', 'usage:read'],
  };
  const matrix = (['admin', 'editor', 'viewer'] as const).flatMap((role) => cases.map((c, i) => [role, c.route, i] as const));

  let env: Env;
  beforeAll(async () => {
    env = await setup();
  });

  it.each(matrix)('%s → %s', async (role, _route, i) => {
    const c = cases[i] as Case;
    const n = `rbac-${role}-${i}`;
    const spec = await c.make(env, n);
    const auditBefore = (await env.audit.list({ limit: 1000 })).length;
    const r = await env.as(role, spec);
    if (ALLOWED[role].includes(c.permission)) {
      expect(r.status).toBe(c.ok);
    } else {
      expectError(r, 403, null);
      expect(r.json.error.type).toBe('permission_error');
      expect(r.json.error.message).toContain(c.permission);
      // Refused means untouched.
      expect((await env.audit.list({ limit: 1000 })).length).toBe(auditBefore);
      if (spec.method === 'DELETE' && spec.path.startsWith('/admin/tenants/')) expect(await env.tenants.get(n)).not.toBeNull();
    }
  });
});

describe('ensureBootstrapAdmin', () => {
  it('creates the first admin only when there is no user at all', async () => {
    const users = new MemoryAdminUserRepository();
    expect(await ensureBootstrapAdmin(users, { password: 'local-secret' })).toBe(true);
    expect(await users.get('admin')).toMatchObject({ username: 'admin', role: 'admin' });
    const hash = (await users.get('admin'))?.password_hash;
    expect(await ensureBootstrapAdmin(users, { password: 'other' })).toBe(false);
    expect((await users.get('admin'))?.password_hash).toBe(hash);
    const other = new MemoryAdminUserRepository();
    await other.create({ username: 'someone', role: 'viewer', password_hash: 'x', created_at: 'x', updated_at: 'x' });
    expect(await ensureBootstrapAdmin(other, { username: 'root', password: 'pw' })).toBe(false);
    expect(await other.get('root')).toBeNull();
  });
});
