// The console's reads on the local server with DATABASE_URL: the overview's error count, a
// tenant's sent alerts and the audit trail's filters come from PostgreSQL (a private cluster,
// test/helpers/postgres.ts), over real sockets with a fake OpenAI upstream and admin auth off
// (its writes audited as "anonymous").
import { loadConfig } from '../../functions/config';
import { silentLogger } from '../../functions/core/logger';
import { startLocalGateway, type LocalGateway } from '../../functions/local/app';
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { usePostgres } from '../helpers/postgres';

const postgres = usePostgres();
let openai: FakeUpstream;
let gw: LocalGateway;

beforeAll(async () => {
  openai = await startOpenAIUpstream();
  const config = loadConfig(
    { ADDR: '127.0.0.1:0', OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openai.url, DATABASE_URL: await postgres.server.freshDatabase('console') },
    () => '',
    'test',
  );
  gw = await startLocalGateway(config, silentLogger);
}, 60_000);
afterAll(async () => {
  await gw?.close();
  await openai?.close();
});

/** What the assertions read of the admin API's answers. */
interface Overview {
  totals: { request_count: number; errors: number; error_rate: number };
  per_day: Array<{ date: string; request_count: number }>;
}
interface Listing<T> {
  data: T[];
}

async function read<T>(path: string): Promise<T> {
  const r = await fetch(`${gw.url}${path}`);
  expect(r.status).toBe(200);
  return (await r.json()) as T;
}
const complete = (key: string): Promise<Response> =>
  fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
  });

test('a tenant spends and meets an upstream error: the overview counts the error, its alert and its creation are listed', async () => {
  const created = await fetch(`${gw.url}/admin/tenants`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'pg-console', name: 'PG console', budget_usd: 0.0005, allow_overage: true }),
  });
  expect(created.status).toBe(201);
  const { api_key: key } = (await created.json()) as { api_key: string };

  expect((await complete(key)).status).toBe(200);
  openai.setBehaviour({ status: 400, times: 1 });
  expect((await complete(key)).status).toBe(400);
  await gw.gateway.flush();

  const overview = await read<Overview>('/admin/overview');
  expect(overview.totals).toMatchObject({ request_count: 2, errors: 1, error_rate: 0.5 });
  const today = new Date().toISOString().slice(0, 10);
  expect(overview.per_day.find((d) => d.date === today)).toMatchObject({ request_count: 2 });

  const alerts = (await read<Listing<{ period: string; threshold_pct: number }>>('/admin/tenants/pg-console/alerts')).data;
  expect(alerts.map((a) => a.threshold_pct)).toContain(50);
  expect(alerts[0]?.period).toBe(today.slice(0, 7));

  const audit = (await read<Listing<unknown>>('/admin/audit?actor=anonymous&action=tenant.create&tenant_id=pg-console')).data;
  expect(audit).toHaveLength(1);
  expect((await read<Listing<unknown>>('/admin/audit?action=tenant.delete')).data).toEqual([]);
});
