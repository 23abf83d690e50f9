// One admin API, two runtimes: the same requests sent to the local server (over HTTP) and to the
// admin Lambda edge (middy, HTTP API events, its JSON body parser) get the same status, body and
// headers, refusals included, in the same order of checks (auth before the body is judged).
import type { Context } from 'aws-lambda';
import { composeGateway } from '../../functions/adapters/compose';
import { httpApiEdge, type HttpApiEdge } from '../../functions/adapters/lambda/http-api-edge';
import { MemoryAdminUserRepository } from '../../functions/adapters/memory/admin-users';
import { MemoryAuditLog } from '../../functions/adapters/memory/audit-log';
import { MemoryTenantRepository } from '../../functions/adapters/memory/tenant-repository';
import { createAdminApi, ensureBootstrapAdmin } from '../../functions/admin';
import { hashPassword } from '../../functions/admin/passwords';
import type { ApiHandler } from '../../functions/core/api-types';
import { loadConfig } from '../../functions/config';
import { silentLogger } from '../../functions/core/logger';
import { localRoutes } from '../../functions/local/routes';
import { startServer, type RunningServer } from '../../functions/local/server';
import { httpApiEvent } from '../helpers/http-api-event';

const T0 = Date.parse('2026-03-10T12:00:00.000Z');
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const ADMIN = { authorization: basic('admin', 'admin') };
const VIEWER = { authorization: basic('vi', 'viewer-password-1') };
const JSON_TYPE = { 'content-type': 'application/json' };
/** Headers the admin API sets; the local server adds its own (date, content-length…) beside them. */
const COMPARED_HEADERS = ['content-type', 'cache-control', 'www-authenticate', 'allow', 'retry-after'];

interface Case {
  label: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  status: number;
}

// In order: each side's stores go through the same changes.
const CASES: Case[] = [
  { label: 'list', method: 'GET', path: '/admin/tenants', headers: ADMIN, status: 200 },
  { label: 'no credentials', method: 'GET', path: '/admin/tenants', status: 401 },
  { label: 'a viewer deleting', method: 'DELETE', path: '/admin/tenants/default', headers: VIEWER, status: 403 },
  { label: 'no such route', method: 'GET', path: '/admin/nothing', headers: ADMIN, status: 404 },
  { label: 'a method the path lacks', method: 'DELETE', path: '/admin/tenants', headers: ADMIN, status: 405 },
  {
    label: 'a body that is not JSON',
    method: 'POST',
    path: '/admin/tenants',
    headers: { ...ADMIN, 'content-type': 'text/plain' },
    body: 'name=x',
    status: 415,
  },
  { label: 'malformed JSON', method: 'POST', path: '/admin/tenants', headers: { ...ADMIN, ...JSON_TYPE }, body: '{"name":', status: 400 },
  { label: 'malformed JSON without credentials', method: 'POST', path: '/admin/tenants', headers: JSON_TYPE, body: '{"name":', status: 401 },
  { label: 'a viewer sending malformed JSON', method: 'POST', path: '/admin/tenants', headers: { ...VIEWER, ...JSON_TYPE }, body: '{', status: 403 },
  { label: 'an unknown field', method: 'POST', path: '/admin/tenants', headers: { ...ADMIN, ...JSON_TYPE }, body: '{"name":"x","colour":"red"}', status: 400 },
  {
    label: 'create',
    method: 'POST',
    path: '/admin/tenants',
    headers: { ...ADMIN, ...JSON_TYPE },
    body: '{"id":"parity","name":"Parity","budget_usd":5}',
    status: 201,
  },
  {
    label: 'create again',
    method: 'POST',
    path: '/admin/tenants',
    headers: { ...ADMIN, 'content-type': 'application/json; charset=utf-8' },
    body: '{"id":"parity","name":"Parity"}',
    status: 409,
  },
  { label: 'update', method: 'PUT', path: '/admin/tenants/parity', headers: { ...ADMIN, ...JSON_TYPE }, body: '{"budget_usd":7}', status: 200 },
  { label: 'rotate without a body', method: 'POST', path: '/admin/tenants/parity/rotate-key', headers: ADMIN, status: 200 },
  { label: 'usage with a bad range', method: 'GET', path: '/admin/tenants/parity/usage?from=2026-02-30', headers: ADMIN, status: 400 },
];

async function adminApi(): Promise<ApiHandler> {
  const now = () => T0;
  const users = new MemoryAdminUserRepository();
  await ensureBootstrapAdmin(users, { password: 'admin', now });
  const at = new Date(T0).toISOString();
  await users.create({ username: 'vi', role: 'viewer', password_hash: await hashPassword('viewer-password-1'), created_at: at, updated_at: at });
  return createAdminApi({
    tenants: new MemoryTenantRepository(undefined, { now }),
    users,
    audit: new MemoryAuditLog(),
    authEnabled: true,
    now,
    logger: silentLogger,
  });
}

/** Freshly minted keys differ between the two sides; everything else must not. */
function normalized(text: string): unknown {
  if (text === '') return '';
  return JSON.parse(text, (key, value: unknown) => (key === 'api_key' || key === 'prefix' ? '<minted>' : value));
}

interface Answer {
  status: number;
  headers: Record<string, string | undefined>;
  body: unknown;
}

const picked = (get: (name: string) => string | undefined): Record<string, string | undefined> => Object.fromEntries(COMPARED_HEADERS.map((h) => [h, get(h)]));

describe('the admin API answers alike on the local server and behind its Lambda edge', () => {
  let server: RunningServer;
  let edge: HttpApiEdge;
  const local: Answer[] = [];
  const lambda: Answer[] = [];

  beforeAll(async () => {
    const config = loadConfig({ ADDR: '127.0.0.1:0' }, () => '{}', 'test');
    const { gateway } = await composeGateway(config, silentLogger);
    server = await startServer({
      host: config.host,
      port: config.port,
      maxBodyBytes: config.maxBodyBytes,
      logger: silentLogger,
      ...localRoutes(gateway, await adminApi(), true),
    });
    edge = httpApiEdge(await adminApi(), { maxBodyBytes: config.maxBodyBytes, logger: silentLogger, parseJson: true });
    for (const c of CASES) {
      const res = await fetch(`${server.url}${c.path}`, { method: c.method, headers: c.headers, body: c.body });
      local.push({ status: res.status, headers: picked((h) => res.headers.get(h) ?? undefined), body: normalized(await res.text()) });
      const result = await edge(httpApiEvent({ method: c.method, path: c.path, headers: c.headers, body: c.body, sourceIp: '127.0.0.1' }), {} as Context);
      const headers = result.headers ?? {};
      lambda.push({
        status: result.statusCode ?? 0,
        headers: picked((h) => (headers[h] === undefined ? undefined : String(headers[h]))),
        body: normalized(result.body ?? ''),
      });
    }
  });
  afterAll(() => server.shutdown(1000));

  it.each(CASES.map((c, i) => [c.label, c.status, i] as const))('%s: %d on both', (_label, status, i) => {
    expect(local[i]?.status).toBe(status);
    expect(lambda[i]).toEqual(local[i]);
  });

  it("every refusal is OpenAI's error JSON, never cached", () => {
    for (const answer of local.filter((a) => a.status >= 400)) {
      expect(Object.keys((answer.body as { error: object }).error).sort()).toEqual(['code', 'message', 'param', 'type']);
      expect(answer.headers['cache-control']).toBe('no-store');
    }
  });
});
