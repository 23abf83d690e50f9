// The admin API's read endpoints for the web console: the overview across tenants, providers with
// their breakers and cooldowns, tenants with this month's spend, a tenant's sent alerts, and the
// audit trail's filters; each with its permission. The admin ApiHandler over real memory stores,
// usage applied through the usage store as the aggregator applies it, on a fake clock.
import { MemoryAdminUserRepository } from '../../functions/adapters/memory/admin-users';
import { MemoryAlertClaims } from '../../functions/adapters/memory/alert-claims';
import { MemoryAuditLog } from '../../functions/adapters/memory/audit-log';
import { MemoryBreakerStore } from '../../functions/adapters/memory/breaker-store';
import { MemoryCooldownStore } from '../../functions/adapters/memory/cooldown-store';
import { MemoryTenantRepository } from '../../functions/adapters/memory/tenant-repository';
import { MemoryUsageStore } from '../../functions/adapters/memory/usage';
import { createAdminApi } from '../../functions/admin/api';
import { ensureBootstrapAdmin } from '../../functions/admin/bootstrap';
import { hashPassword } from '../../functions/admin/passwords';
import { DEFAULT_BREAKER } from '../../functions/config/routing-file';
import type { ApiHandler } from '../../functions/core/api-types';
import { CancelSignal } from '../../functions/core/cancel';
import { silentLogger } from '../../functions/core/logger';
import type { AdminRole, UsageEvent } from '../../functions/core/ports';

/* eslint-disable @typescript-eslint/no-explicit-any -- parsed response JSON in assertions */
const T0 = Date.parse('2026-03-10T12:00:00.000Z');
const PASSWORDS: Record<AdminRole, [string, string]> = {
  admin: ['admin', 'admin-password-1'],
  editor: ['ed', 'editor-password-1'],
  viewer: ['vi', 'viewer-password-1'],
};

interface Env {
  clock: { now: number };
  usage: MemoryUsageStore;
  claims: MemoryAlertClaims;
  breakers: MemoryBreakerStore;
  cooldowns: MemoryCooldownStore;
  audit: MemoryAuditLog;
  get: (role: AdminRole, path: string) => Promise<{ status: number; json: any }>;
  post: (role: AdminRole, path: string, body: unknown) => Promise<{ status: number; json: any }>;
  spend: (tenant: string, over: Partial<UsageEvent>) => Promise<void>;
}

let seq = 0;

async function setup(): Promise<Env> {
  const clock = { now: T0 };
  const now = () => clock.now;
  const users = new MemoryAdminUserRepository();
  await ensureBootstrapAdmin(users, { password: PASSWORDS.admin[1], now });
  for (const role of ['editor', 'viewer'] as const) {
    const at = new Date(T0).toISOString();
    await users.create({ username: PASSWORDS[role][0], role, password_hash: await hashPassword(PASSWORDS[role][1]), created_at: at, updated_at: at });
  }
  const usage = new MemoryUsageStore();
  const claims = new MemoryAlertClaims(now);
  const breakers = new MemoryBreakerStore();
  const cooldowns = new MemoryCooldownStore();
  const audit = new MemoryAuditLog();
  const api: ApiHandler = createAdminApi({
    tenants: new MemoryTenantRepository([], { now }),
    users,
    audit,
    usage,
    alertClaims: claims,
    providerStatus: { names: ['openai', 'anthropic'], breakers, cooldowns, breaker: DEFAULT_BREAKER },
    authEnabled: true,
    now,
    logger: silentLogger,
  });
  const call = async (role: AdminRole, method: string, path: string, body?: unknown) => {
    const q = path.indexOf('?');
    const r = await api({
      method,
      path: q === -1 ? path : path.slice(0, q),
      query: new URLSearchParams(q === -1 ? '' : path.slice(q + 1)),
      headers: {
        authorization: `Basic ${Buffer.from(PASSWORDS[role].join(':')).toString('base64')}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body)),
      signal: new CancelSignal(),
      remoteAddress: '127.0.0.1',
    });
    const raw = typeof r.body === 'string' ? r.body : '';
    return { status: r.status, json: raw === '' ? undefined : JSON.parse(raw) };
  };
  const spend = async (tenant: string, over: Partial<UsageEvent>) => {
    await usage.apply(
      {
        request_id: `req-${++seq}`,
        tenant_id: tenant,
        provider: 'openai',
        model: 'gpt-4o',
        prompt_tokens: 10,
        completion_tokens: 5,
        cached_tokens: 0,
        cache_write_tokens: 0,
        reasoning_tokens: 0,
        cost_usd: 0.1,
        latency_ms: 5,
        cache_hit: false,
        status: 200,
        stream: false,
        timestamp: new Date(clock.now).toISOString(),
        budget_usd: 0,
        ...over,
      },
      async () => undefined,
    );
  };
  return {
    clock,
    usage,
    claims,
    breakers,
    cooldowns,
    audit,
    get: (role, path) => call(role, 'GET', path),
    post: (role, path, body) => call(role, 'POST', path, body),
    spend,
  };
}

async function createTenant(env: Env, name: string, budget: number): Promise<string> {
  const r = await env.post('admin', '/admin/tenants', { id: name, name: `${name} service`, budget_usd: budget });
  expect(r.status).toBe(201);
  return r.json.id as string;
}

describe('GET /admin/overview', () => {
  let env: Env;
  beforeAll(async () => {
    env = await setup();
    await createTenant(env, 'acme', 10);
    await createTenant(env, 'bravo', 10);
    await createTenant(env, 'idle', 10);
    await env.spend('acme', { cost_usd: 0.1, timestamp: '2026-03-02T10:00:00.000Z' });
    await env.spend('acme', { cost_usd: 0.2, cache_hit: true, timestamp: '2026-03-09T10:00:00.000Z' });
    await env.spend('acme', { cost_usd: 0.0000000001, status: 502, model: 'claude-haiku-4-5', timestamp: '2026-03-09T11:00:00.000Z' });
    await env.spend('bravo', { cost_usd: 1.25, model: 'claude-haiku-4-5', timestamp: '2026-03-10T09:00:00.000Z' });
    await env.spend('bravo', { cost_usd: 9, timestamp: '2026-02-27T09:00:00.000Z' }); // last month
  });

  it('sums this UTC month across tenants with rates rounded as /v1/usage, spend per day and the top tenants and models', async () => {
    const r = await env.get('viewer', '/admin/overview');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      object: 'admin.overview',
      from: '2026-03-01T00:00:00.000Z',
      to: '2026-03-10T12:00:00.000Z',
      totals: {
        cost_usd: 1.5500000001,
        request_count: 4,
        cache_hits: 1,
        cache_hit_rate: 0.25,
        errors: 1,
        error_rate: 0.25,
        prompt_tokens: 40,
        completion_tokens: 20,
      },
      top_tenants: [
        { tenant_id: 'bravo', name: 'bravo service', cost_usd: 1.25, request_count: 1 },
        { tenant_id: 'acme', name: 'acme service', cost_usd: 0.3000000001, request_count: 3 },
      ],
      top_models: [
        { model: 'claude-haiku-4-5', cost_usd: 1.2500000001, request_count: 2 },
        { model: 'gpt-4o', cost_usd: 0.3, request_count: 2 },
      ],
    });
    expect(r.json.per_day).toHaveLength(10);
    expect(r.json.per_day[0]).toEqual({ date: '2026-03-01', cost_usd: 0, request_count: 0 });
    expect(r.json.per_day[1]).toEqual({ date: '2026-03-02', cost_usd: 0.1, request_count: 1 });
    expect(r.json.per_day[8]).toEqual({ date: '2026-03-09', cost_usd: 0.2000000001, request_count: 2 });
    expect(r.json.per_day[9]).toEqual({ date: '2026-03-10', cost_usd: 1.25, request_count: 1 });
  });

  it('takes a from/to range, and refuses a bad one', async () => {
    const feb = await env.get('viewer', '/admin/overview?from=2026-02-01&to=2026-02-28');
    expect(feb.json.totals).toMatchObject({ cost_usd: 9, request_count: 1, cache_hit_rate: 0, error_rate: 0 });
    expect(feb.json.per_day).toHaveLength(28);
    expect(feb.json.to).toBe('2026-02-28T23:59:59.999Z');
    expect((await env.get('viewer', '/admin/overview?from=2026-03-05&to=2026-03-01')).status).toBe(400);
    expect((await env.get('viewer', '/admin/overview?from=2024-01-01&to=2026-01-01')).status).toBe(400);
  });

  it('matches the tenant usage endpoint to the last digit', async () => {
    const tenant = await env.get('viewer', '/admin/tenants/acme/usage');
    const top = (await env.get('viewer', '/admin/overview')).json.top_tenants.find((t: any) => t.tenant_id === 'acme');
    expect(top.cost_usd).toBe(tenant.json.totals.cost_usd);
  });
});

describe('GET /admin/tenants?with=spend', () => {
  it("adds this month's spend and budget use, as /v1/usage reports them", async () => {
    const env = await setup();
    await createTenant(env, 'acme', 0.4);
    await createTenant(env, 'bravo', 0);
    await env.spend('acme', { cost_usd: 0.3 });
    await env.spend('acme', { cost_usd: 5, timestamp: '2026-02-01T00:00:00.000Z' });
    const r = await env.get('viewer', '/admin/tenants?with=spend');
    expect(r.json.data.map((t: any) => [t.id, t.spend_usd_month, t.budget_used_pct])).toEqual([
      ['acme', 0.3, 75],
      ['bravo', 0, 0],
    ]);
    const plain = await env.get('viewer', '/admin/tenants');
    expect(plain.json.data[0]).not.toHaveProperty('spend_usd_month');
    expect((await env.get('viewer', '/admin/tenants?with=everything')).status).toBe(400);
  });
});

describe('GET /admin/providers', () => {
  it('lists each provider with its breaker, when an open one probes, and its running cooldowns', async () => {
    const env = await setup();
    await env.breakers.put('openai', { phase: 'open', consecutiveFailures: 5, consecutiveSuccesses: 0, openedAtMs: T0 - 10_000 });
    await env.breakers.put('ollama', { phase: 'half_open', consecutiveFailures: 5, consecutiveSuccesses: 1, openedAtMs: T0 - 60_000 });
    await env.cooldowns.put('anthropic/claude-haiku-4-5', { untilMs: T0 + 20_000, status: 429, header: 'retry-after' }, T0);
    await env.cooldowns.put('anthropic/claude-old', { untilMs: T0 - 1, status: 429, header: 'retry-after' }, T0 - 5000);
    const r = await env.get('viewer', '/admin/providers');
    expect(r.status).toBe(200);
    expect(r.json.data).toEqual([
      {
        name: 'anthropic',
        breaker: 'closed',
        consecutive_failures: 0,
        opened_at: null,
        probe_at: null,
        cooldowns: [{ model: 'claude-haiku-4-5', until: '2026-03-10T12:00:20.000Z', status: 429, header: 'retry-after' }],
      },
      { name: 'ollama', breaker: 'half_open', consecutive_failures: 5, opened_at: '2026-03-10T11:59:00.000Z', probe_at: null, cooldowns: [] },
      {
        name: 'openai',
        breaker: 'open',
        consecutive_failures: 5,
        opened_at: '2026-03-10T11:59:50.000Z',
        probe_at: '2026-03-10T12:00:20.000Z',
        cooldowns: [],
      },
    ]);
  });
});

describe('GET /admin/tenants/{id}/alerts', () => {
  it('lists the alerts sent for the tenant, newest first', async () => {
    const env = await setup();
    await createTenant(env, 'acme', 1);
    await env.claims.claim('acme', '2026-02', 50);
    env.clock.now += 60_000;
    await env.claims.claim('acme', '2026-03', 50);
    await env.claims.claim('acme', '2026-03', 80);
    await env.claims.claim('other', '2026-03', 100);
    const r = await env.get('viewer', '/admin/tenants/acme/alerts');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      object: 'list',
      budget_usd: 1,
      data: [
        { object: 'tenant.alert', tenant_id: 'acme', period: '2026-03', threshold_pct: 80, sent_at: '2026-03-10T12:01:00.000Z' },
        { object: 'tenant.alert', tenant_id: 'acme', period: '2026-03', threshold_pct: 50, sent_at: '2026-03-10T12:01:00.000Z' },
        { object: 'tenant.alert', tenant_id: 'acme', period: '2026-02', threshold_pct: 50, sent_at: '2026-03-10T12:00:00.000Z' },
      ],
    });
    expect((await env.get('viewer', '/admin/tenants/acme/alerts?limit=1')).json.data).toHaveLength(1);
    expect((await env.get('viewer', '/admin/tenants/nobody/alerts')).status).toBe(404);
    expect((await env.get('viewer', '/admin/tenants/acme/alerts?limit=0')).status).toBe(400);
  });
});

describe('GET /admin/audit filters', () => {
  it('filters by actor, action, tenant and time', async () => {
    const env = await setup();
    await createTenant(env, 'acme', 1);
    env.clock.now += 60_000;
    expect((await env.post('editor', '/admin/tenants/acme/rotate-key', {})).status).toBe(200);
    env.clock.now += 60_000;
    await createTenant(env, 'bravo', 1);
    const actions = async (query: string) =>
      (await env.get('admin', `/admin/audit${query}`)).json.data.map((e: any) => `${e.actor} ${e.action} ${e.tenant_id}`);
    expect(await actions('?actor=ed')).toEqual(['ed tenant.rotate_key acme']);
    expect(await actions('?action=tenant.create')).toEqual(['admin tenant.create bravo', 'admin tenant.create acme']);
    expect(await actions('?tenant_id=acme&action=tenant.create')).toEqual(['admin tenant.create acme']);
    expect(await actions('?from=2026-03-10T12:00:30Z&to=2026-03-10T12:01:30Z')).toEqual(['ed tenant.rotate_key acme']);
    expect(await actions('?actor=admin&limit=1')).toEqual(['admin tenant.create bravo']);
    for (const bad of ['?actor=a%20b', '?action=DROP', '?from=yesterday', '?from=2026-03-11&to=2026-03-10', '?limit=0']) {
      expect((await env.get('admin', `/admin/audit${bad}`)).status).toBe(400);
    }
  });
});

describe('permissions of the console reads', () => {
  it('every role reads the overview, providers, spend and alerts; only admin reads the audit trail', async () => {
    const env = await setup();
    await createTenant(env, 'acme', 1);
    for (const role of ['admin', 'editor', 'viewer'] as const) {
      for (const path of ['/admin/overview', '/admin/providers', '/admin/tenants?with=spend', '/admin/tenants/acme/alerts']) {
        expect([role, path, (await env.get(role, path)).status]).toEqual([role, path, 200]);
      }
    }
    expect((await env.get('editor', '/admin/audit')).status).toBe(403);
    expect((await env.get('viewer', '/admin/audit?actor=admin')).status).toBe(403);
    expect((await env.post('viewer', '/admin/tenants', { name: 'nope' })).status).toBe(403);
    expect((await env.post('viewer', '/admin/overview', {})).status).toBe(405);
  });
});
