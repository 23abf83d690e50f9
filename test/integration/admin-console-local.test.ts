// The console's server side on the local server as `npm start` runs it (admin auth off), over real
// sockets with a fake OpenAI upstream: sign in with the first admin, create a tenant with the
// session's cookie and CSRF token, spend with its key and see the overview, the tenant's spend
// and its budget alert move; a failing upstream turns its provider's breaker open.
import { DEFAULT_TENANT } from '../../functions/core/tenants';
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { startGateway, type TestGateway } from '../helpers/gateway';

/* eslint-disable @typescript-eslint/no-explicit-any -- parsed response JSON in assertions */
describe('the console API on the local server', () => {
  let openai: FakeUpstream;
  let gw: TestGateway;
  let cookie: string;
  let csrf: string;

  beforeAll(async () => {
    openai = await startOpenAIUpstream();
    gw = await startGateway(
      { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openai.url },
      { routing: { fallback_providers: [], circuit_breaker: { failure_threshold: 2, success_threshold: 1, open_seconds: 30 } } },
    );
    const signIn = await fetch(`${gw.url}/admin/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: gw.url },
      body: JSON.stringify({ username: 'admin', password: 'admin' }),
    });
    expect(signIn.status).toBe(200);
    cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] as string;
    csrf = ((await signIn.json()) as any).csrf_token;
  });
  afterAll(async () => {
    await gw.close();
    await openai.close();
  });

  const read = async (path: string): Promise<any> => {
    const r = await fetch(`${gw.url}${path}`, { headers: { cookie } });
    expect(r.status).toBe(200);
    return r.json();
  };
  const complete = (key: string): Promise<Response> =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
    });

  it('a tenant created through the session spends, and the overview, its spend and its alerts show it', async () => {
    const created = await fetch(`${gw.url}/admin/tenants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrf, origin: gw.url },
      body: JSON.stringify({ id: 'console-demo', name: 'Console demo', budget_usd: 0.0005, allow_overage: true }),
    });
    expect(created.status).toBe(201);
    const { api_key: key } = (await created.json()) as any;
    expect((await read('/admin/audit?actor=admin&action=tenant.create')).data[0]).toMatchObject({ tenant_id: 'console-demo' });

    const before = await read('/admin/overview');
    const answer = await complete(key);
    expect(answer.status).toBe(200);
    const cost = ((await answer.json()) as any).x_gateway.cost_usd as number;
    expect(cost).toBeGreaterThan(0.00025); // past half of the budget
    await gw.gateway.flush();

    const after = await read('/admin/overview');
    expect(after.totals.request_count).toBe(before.totals.request_count + 1);
    expect(after.top_tenants).toContainEqual({ tenant_id: 'console-demo', name: 'Console demo', cost_usd: cost, request_count: 1 });
    const today = new Date().toISOString().slice(0, 10);
    expect(after.per_day.find((d: any) => d.date === today).request_count).toBeGreaterThanOrEqual(1);

    const usage = (await (await fetch(`${gw.url}/v1/usage`, { headers: { authorization: `Bearer ${key}` } })).json()) as any;
    const listed = (await read('/admin/tenants?with=spend')).data.find((t: any) => t.id === 'console-demo');
    expect(listed).toMatchObject({ spend_usd_month: usage.total_cost_usd, budget_used_pct: usage.budget_used_pct });

    const alerts = await read('/admin/tenants/console-demo/alerts');
    expect(alerts.data.map((a: any) => a.threshold_pct)).toContain(50);
  });

  it('a provider whose upstream keeps failing shows an open breaker', async () => {
    gw.tenants.put('gw-breaker-test', { ...DEFAULT_TENANT, id: 'breaker-test', name: 'breaker test' });
    expect((await read('/admin/providers')).data.find((p: any) => p.name === 'openai')).toMatchObject({ breaker: 'closed' });
    openai.setBehaviour({ status: 503 });
    try {
      for (let i = 0; i < 2; i++) expect((await complete('gw-breaker-test')).status).toBeGreaterThanOrEqual(500);
    } finally {
      openai.setBehaviour(null);
    }
    const openaiStatus = (await read('/admin/providers')).data.find((p: any) => p.name === 'openai');
    expect(openaiStatus).toMatchObject({ breaker: 'open', consecutive_failures: 2 });
    expect(typeof openaiStatus.probe_at).toBe('string');
  });
});
