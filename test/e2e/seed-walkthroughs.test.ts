// The seed's caching, usage and admin walkthroughs, as written (curl → fetch), against the local
// server with its admin API, on the in-memory default, on DynamoDB (dynalite) and with Redis
// (REDIS_URL: limits, cache, budgets and usage in a real redis-server): a cached second
// request is a hit and free; usage and budget_used_pct move by each request's cost; a spent
// budget answers 429 insufficient_quota and its alerts reach ALERT_WEBHOOK_URL once each; the
// admin usage report groups by day and model; /metrics counts it all.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startOllamaUpstream } from '../fakes/ollama-upstream';
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { startDynalite, uniqueTablePrefix, type RunningDynalite } from '../helpers/dynalite';
import { eventually } from '../helpers/eventually';
import { startRedis, type RunningRedis } from '../helpers/redis';
import { composeGateway, type ComposedGateway } from '../../functions/adapters/compose';
import { createAdminApi, isAdminPath } from '../../functions/admin';
import { loadConfig, type Env } from '../../functions/config';
import { silentLogger } from '../../functions/core/logger';
import { startServer, type RunningServer } from '../../functions/local/server';

/** A response body, checked field by field. */
type Json = Record<string, any>;

describe.each(['memory', 'dynamodb', 'redis'] as const)('seed walkthroughs on %s', (backend) => {
  let ollama: FakeUpstream;
  let openai: FakeUpstream;
  let dynalite: RunningDynalite | undefined;
  let redis: RunningRedis | undefined;
  let composed: ComposedGateway;
  let server: RunningServer;
  let url: string;
  let webhook: Server;
  const alerts: Array<Record<string, unknown>> = [];
  const saved = { ...process.env };

  beforeAll(async () => {
    [ollama, openai] = await Promise.all([startOllamaUpstream(), startOpenAIUpstream()]);
    // A Slack-style incoming webhook: records each alert it is sent.
    webhook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        alerts.push(JSON.parse(body) as Record<string, unknown>);
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', () => r()));
    const env: Env = {
      ADDR: '127.0.0.1:0',
      OLLAMA_BASE_URL: ollama.url,
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: openai.url,
      ALERT_WEBHOOK_URL: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hooks/budget`,
      // Exact limits and budgets are what is walked through here; a loaded test machine must not
      // turn a slow store call into a degraded answer (store faults have tests of their own).
      STORE_TIMEOUT: '5000',
    };
    if (backend === 'dynamodb') {
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_REGION: 'us-east-1' });
      dynalite = await startDynalite();
      const p = uniqueTablePrefix('walk');
      Object.assign(env, { DYNAMODB_ENDPOINT: dynalite.endpoint, TENANTS_TABLE: `${p}tenants`, STATE_TABLE: `${p}state`, USAGE_TABLE: `${p}usage` });
    }
    if (backend === 'redis') {
      redis = await startRedis();
      env.REDIS_URL = redis.url;
    }
    const config = loadConfig(env, () => '', 'test');
    composed = await composeGateway(config, silentLogger);
    const { tenants, users, audit } = composed.stores;
    const admin = createAdminApi({ tenants, users, audit, usage: composed.usage.stores.store, authEnabled: false, logger: silentLogger });
    server = await startServer({
      host: config.host,
      port: config.port,
      maxBodyBytes: config.maxBodyBytes,
      logger: silentLogger,
      handle: (r) => (isAdminPath(r.path) ? admin(r) : composed.gateway.handle(r)),
    });
    url = server.url;
  });

  afterAll(async () => {
    await server?.shutdown(500);
    await composed?.gateway.flush();
    await composed?.state.close();
    await Promise.all([ollama?.close(), openai?.close(), dynalite?.close(), redis?.stop(), new Promise((r) => webhook?.close(r))]);
    process.env = saved;
  });

  const chat = async (key: string, body: Json): Promise<{ status: number; body: Json }> => {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Json };
  };
  const get = async (path: string, key?: string): Promise<Json> =>
    (await (await fetch(`${url}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} })).json()) as Json;
  /** Usage is applied after the response: wait until it shows `requests`. */
  async function usageAfter(key: string, requests: number): Promise<Json> {
    const { value } = await eventually(
      `usage to show ${requests} requests`,
      async () => {
        await composed.gateway.flush();
        const u = await get('/v1/usage', key);
        return u.request_count >= requests && u;
      },
      2_000,
      20,
    );
    return value;
  }

  test('5. Response caching: the same deterministic request twice; the second is a hit', async () => {
    const body = { model: 'llama3.2', messages: [{ role: 'user', content: 'Hi' }], temperature: 0 };
    const first = await chat('gw-default-key', body);
    expect(first.status).toBe(200);
    expect(first.body.x_gateway.cache_hit).toBe(false);
    const second = await chat('gw-default-key', body);
    expect(second.body.x_gateway.cache_hit).toBe(true);
    expect(second.body.x_gateway.cost_usd).toBe(0);
    expect(second.body.choices).toEqual(first.body.choices);
  });

  test('6. Usage & cost tracking: GET /v1/usage in the seed shape', async () => {
    const u = await usageAfter('gw-default-key', 2);
    expect(u).toMatchObject({
      tenant_id: 'default',
      budget_usd: 1000,
      request_count: 2,
      total_cost_usd: 0,
      budget_used_pct: 0,
      cache_hits: 1,
      cache_hit_rate: 0.5,
    });
    expect(u.period_start).toMatch(/^\d{4}-\d{2}-01T00:00:00Z$/);
  });

  test('admin: a tenant with a budget; usage moves by each cost, hits are free, a spent budget is refused', async () => {
    const created = (await (
      await fetch(`${url}/admin/tenants`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: `walk-${backend}`, rate_limit_rpm: 100, budget_usd: 0.0006 }),
      })
    ).json()) as Json;
    expect(created).toMatchObject({ name: `walk-${backend}`, rate_limit_rpm: 100, budget_usd: 0.0006 });
    const key = created.api_key as string;
    expect(key).toMatch(/^gw-/);

    const ask = (content: string): Promise<{ status: number; body: Json }> =>
      chat(key, { model: 'gpt-4o', max_tokens: 5, temperature: 0, messages: [{ role: 'user', content }] });
    const one = await ask('one');
    expect(one.status).toBe(200);
    const c1 = one.body.x_gateway.cost_usd as number;
    expect(c1).toBeGreaterThan(0);
    let u = await usageAfter(key, 1);
    expect(u.total_cost_usd).toBeCloseTo(c1, 10);
    expect(u.budget_used_pct).toBeCloseTo((c1 / 0.0006) * 100, 4);

    const hit = await ask('one');
    expect(hit.body.x_gateway).toMatchObject({ cache_hit: true, cost_usd: 0 });
    u = await usageAfter(key, 2);
    expect(u).toMatchObject({ request_count: 2, cache_hits: 1 });
    expect(u.total_cost_usd).toBeCloseTo(c1, 10);

    const two = await ask('two');
    expect(two.status).toBe(200);
    const c2 = two.body.x_gateway.cost_usd as number;
    u = await usageAfter(key, 3);
    expect(u.total_cost_usd).toBeCloseTo(c1 + c2, 10);
    expect(u.budget_used_pct).toBeGreaterThan(100);

    const refused = await ask('three');
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'insufficient_quota', type: 'insufficient_quota' });

    // Its spend went past 50, 80 and 100 % of the budget: one webhook alert each, in order.
    const mine = alerts.filter((a) => a.tenant_id === created.id);
    expect(mine.map((a) => a.threshold_pct)).toEqual([50, 80, 100]);
    expect(mine[0]).toMatchObject({ type: 'budget_alert', budget_usd: 0.0006, period: new Date().toISOString().slice(0, 7) });
    expect(String(mine[2]?.text)).toContain(`tenant "${created.id}" has used 100% of its 0.0006 USD budget`);

    // The admin usage report, both groupings.
    const byModel = await get(`/admin/tenants/${created.id}/usage?group_by=model`);
    expect(byModel).toMatchObject({ object: 'tenant.usage', tenant_id: created.id, group_by: 'model', totals: { request_count: 3, cache_hits: 1 } });
    expect(byModel.totals.cost_usd).toBeCloseTo(c1 + c2, 10);
    expect(byModel.groups).toHaveLength(1);
    expect(byModel.groups[0]).toMatchObject({ model: one.body.model, request_count: 3 });
    const today = new Date().toISOString().slice(0, 10);
    const byDay = await get(`/admin/tenants/${created.id}/usage?from=${today}&to=${today}&group_by=day`);
    expect(byDay.groups).toEqual([expect.objectContaining({ day: today, request_count: 3, cache_hits: 1 })]);

    // /metrics counts it all.
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const series = (name: string, ...labels: string[]): number =>
      metrics
        .split('\n')
        .filter((l) => l.startsWith(`${name}{`) && labels.every((x) => l.includes(x)))
        .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    const t = `tenant="${created.id}"`;
    expect(series('aigateway_requests_total', t)).toBe(3);
    expect(series('aigateway_cache_hits_total', t)).toBe(1);
    expect(series('aigateway_cost_usd_total', t)).toBeCloseTo(c1 + c2, 10);
    expect(series('aigateway_rate_limit_rejections_total', t, 'limit="budget"')).toBe(1);
  });
});
