// GET and DELETE /v1/responses/{id} over the memory response store, behind the API shell as a
// client meets them: authentication like /v1/usage, OpenAI's 404 and deleted shapes, one tenant
// never reaching another's responses. Then the store while it fails (a real Redis client whose
// server is not there): a put is logged and skipped, a read or delete is 503 store_unavailable.
import { MemoryResponseStore } from '../../functions/adapters/memory/response-store';
import { MemoryTenantRepository } from '../../functions/adapters/memory/tenant-repository';
import { createRedisClient } from '../../functions/adapters/redis/client';
import { RedisResponseStore } from '../../functions/adapters/redis/response-store';
import { serveRoutes } from '../../functions/core/api-shell';
import type { ApiHandler, ApiRequest } from '../../functions/core/api-types';
import { CancelSignal } from '../../functions/core/cancel';
import { silentLogger, type LogFields, type Logger } from '../../functions/core/logger';
import type { ResponseStore, StoredResponse, Tenant } from '../../functions/core/ports';
import { ResilientResponseStore } from '../../functions/core/resilience/response-store';
import { responseIdFromPath, responseRoutes } from '../../functions/core/responses-routes';
import { StoreGuard } from '../../functions/core/store-guard';
import { authenticateTenant } from '../../functions/core/tenant-auth';
import { recordOfBytes } from '../contract/response-store.contract';
import { freePort } from '../helpers/store-processes';

const T0 = 1_767_225_600_000;
let now = T0;

const tenant = (id: string, enabled = true): Tenant => ({
  id,
  name: id,
  enabled,
  rate_limit_rpm: 0,
  rate_limit_tpm: 0,
  budget_usd: 0,
  allow_overage: false,
  allowed_models: [],
});
const tenants = new MemoryTenantRepository([
  { key: 'key-a', tenant: tenant('tenant-a') },
  { key: 'key-b', tenant: tenant('tenant-b') },
  { key: 'key-off', tenant: tenant('tenant-off', false) },
]);

const responseObject = (id: string): string =>
  JSON.stringify({ id, object: 'response', created_at: T0 / 1000, status: 'completed', model: 'gpt-4o-mini', output: [] });
const stored = (tenantId: string, id: string): StoredResponse => ({
  tenant_id: tenantId,
  id,
  created_at: T0 / 1000,
  response_json: responseObject(id),
  messages_json: '[{"role":"user","content":"hi"}]',
});

/** The routes behind the API shell, with the id taken from the path as the server will. */
function serve(store: ResponseStore): ApiHandler {
  const routes = responseRoutes({ authenticate: (req) => authenticateTenant(tenants, req), responses: store, now: () => now });
  return (req) => {
    const id = responseIdFromPath(req.path) ?? '';
    const table = { [req.path]: { GET: (r: ApiRequest) => routes.retrieve(r, id), DELETE: (r: ApiRequest) => routes.remove(r, id) } };
    return serveRoutes(table, { logger: silentLogger, now: () => now, maxBodyBytes: 1024 })(req);
  };
}

async function call(handler: ApiHandler, method: string, id: string, key?: string): Promise<{ status: number; body: unknown }> {
  const req: ApiRequest = {
    method,
    path: `/v1/responses/${encodeURIComponent(id)}`,
    query: new URLSearchParams(),
    headers: key ? { authorization: `Bearer ${key}` } : {},
    body: Buffer.alloc(0),
    signal: new CancelSignal(),
  };
  const res = await handler(req);
  return { status: res.status, body: JSON.parse(res.body as string) };
}

beforeEach(() => {
  now = T0;
});

describe('GET /v1/responses/{id}', () => {
  it('answers 200 with the response object exactly as it was stored', async () => {
    const store = new MemoryResponseStore();
    await store.put(stored('tenant-a', 'resp_1'), 60, T0);
    const handler = serve(store);
    const res = await handler({
      method: 'GET',
      path: '/v1/responses/resp_1',
      query: new URLSearchParams(),
      headers: { authorization: 'Bearer key-a' },
      body: Buffer.alloc(0),
      signal: new CancelSignal(),
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.body).toBe(responseObject('resp_1'));
  });

  it("answers 404 in OpenAI's shape for an unknown id, another tenant's id and an expired one alike", async () => {
    const store = new MemoryResponseStore();
    await store.put(stored('tenant-a', 'resp_1'), 60, T0);
    const handler = serve(store);
    const notFound = (id: string) => ({
      status: 404,
      body: { error: { message: `No response found with id '${id}'.`, type: 'invalid_request_error', param: null, code: 'not_found' } },
    });
    expect(await call(handler, 'GET', 'resp_unknown', 'key-a')).toEqual(notFound('resp_unknown'));
    expect(await call(handler, 'GET', 'resp_1', 'key-b')).toEqual(notFound('resp_1'));
    now = T0 + 60_000;
    expect(await call(handler, 'GET', 'resp_1', 'key-a')).toEqual(notFound('resp_1'));
  });

  it('authenticates the tenant as /v1/usage does: 401 without or with a wrong key, 403 disabled', async () => {
    const handler = serve(new MemoryResponseStore());
    expect(await call(handler, 'GET', 'resp_1')).toMatchObject({ status: 401, body: { error: { code: 'invalid_api_key' } } });
    expect(await call(handler, 'GET', 'resp_1', 'key-wrong')).toMatchObject({ status: 401, body: { error: { code: 'invalid_api_key' } } });
    expect(await call(handler, 'GET', 'resp_1', 'key-off')).toMatchObject({ status: 403, body: { error: { code: 'tenant_disabled' } } });
  });
});

describe('DELETE /v1/responses/{id}', () => {
  it('answers 200 {id, object: "response", deleted: true}; the response is then gone', async () => {
    const store = new MemoryResponseStore();
    await store.put(stored('tenant-a', 'resp_1'), 60, T0);
    const handler = serve(store);
    expect(await call(handler, 'DELETE', 'resp_1', 'key-a')).toEqual({ status: 200, body: { id: 'resp_1', object: 'response', deleted: true } });
    expect((await call(handler, 'GET', 'resp_1', 'key-a')).status).toBe(404);
    expect(await call(handler, 'DELETE', 'resp_1', 'key-a')).toMatchObject({
      status: 404,
      body: { error: { message: "No response found with id 'resp_1'." } },
    });
  });

  it('removes the records that name the response for each item of a native answer, and only those', async () => {
    const store = new MemoryResponseStore();
    const output = [
      { id: 'msg_openai_1', type: 'message' },
      { id: 'rs_openai_2', type: 'reasoning' },
    ];
    await store.put({ ...stored('tenant-a', 'resp_n'), response_json: JSON.stringify({ id: 'resp_n', output }) }, 60, T0);
    const pointer = (id: string, responseId: string): StoredResponse => ({
      ...stored('tenant-a', `${id}/response`),
      response_json: JSON.stringify({ response_id: responseId }),
    });
    await store.put(pointer('msg_openai_1', 'resp_n'), 60, T0);
    await store.put(pointer('rs_openai_2', 'resp_n'), 60, T0);
    await store.put(pointer('msg_other', 'resp_other'), 60, T0);
    expect((await call(serve(store), 'DELETE', 'resp_n', 'key-a')).status).toBe(200);
    expect(await store.get('tenant-a', 'msg_openai_1/response', T0)).toBeNull();
    expect(await store.get('tenant-a', 'rs_openai_2/response', T0)).toBeNull();
    expect(await store.get('tenant-a', 'msg_other/response', T0)).not.toBeNull();
  });

  it("cannot delete another tenant's response: 404, and the owner still reads it", async () => {
    const store = new MemoryResponseStore();
    await store.put(stored('tenant-a', 'resp_1'), 60, T0);
    const handler = serve(store);
    expect((await call(handler, 'DELETE', 'resp_1', 'key-b')).status).toBe(404);
    expect((await call(handler, 'GET', 'resp_1', 'key-a')).status).toBe(200);
  });

  it('refuses a disabled tenant before touching its responses', async () => {
    const store = new MemoryResponseStore();
    await store.put(stored('tenant-off', 'resp_1'), 60, T0);
    const handler = serve(store);
    expect((await call(handler, 'DELETE', 'resp_1', 'key-off')).status).toBe(403);
    expect(await store.get('tenant-off', 'resp_1', T0)).not.toBeNull();
  });
});

describe('responseIdFromPath', () => {
  it.each([
    ['/v1/responses/resp_1', 'resp_1'],
    ['/v1/responses/resp_1/', 'resp_1'],
    ['/v1/responses/a%23b', 'a#b'],
    ['/v1/responses', null],
    ['/v1/responses/', null],
    ['/v1/responses/resp_1/input_items', null],
    ['/v1/responses/%E0%A4%A', null],
    ['/v1/chat/completions', null],
  ])('%s → %s', (path, id) => {
    expect(responseIdFromPath(path)).toBe(id);
  });
});

/** A logger that keeps its warnings. */
function recordingLogger(): Logger & { warnings: Array<{ message: string; fields?: LogFields }> } {
  const warnings: Array<{ message: string; fields?: LogFields }> = [];
  return { ...silentLogger, warnings, warn: (message, fields) => warnings.push({ message, fields }) };
}

describe('the response store while it fails', () => {
  it('skips a put with a log line, and answers GET and DELETE 503 store_unavailable, never 404', async () => {
    // A real client to a port nothing listens on: every command fails as in an outage.
    const redis = createRedisClient({ url: `redis://127.0.0.1:${await freePort()}`, commandTimeoutMs: 150 });
    try {
      const logger = recordingLogger();
      const guard = new StoreGuard({ store: 'redis', now: () => now, logger: silentLogger });
      const store = new ResilientResponseStore(new RedisResponseStore(redis), logger, guard);
      await expect(store.put(stored('tenant-a', 'resp_1'), 60, T0)).resolves.toBeUndefined();
      expect(logger.warnings).toEqual([
        { message: 'response not stored: the response store failed', fields: expect.objectContaining({ tenant_id: 'tenant-a', response_id: 'resp_1' }) },
      ]);
      const handler = serve(store);
      for (const method of ['GET', 'DELETE']) {
        const res = await call(handler, method, 'resp_1', 'key-a');
        expect(res).toMatchObject({ status: 503, body: { error: { type: 'api_error', code: 'store_unavailable' } } });
      }
    } finally {
      redis.disconnect();
    }
  });

  it('skips a record larger than the store keeps without counting it against the store', async () => {
    const logger = recordingLogger();
    const guard = new StoreGuard({ store: 'redis', now: () => now, logger: silentLogger, failureThreshold: 1 });
    const inner = new MemoryResponseStore(4096);
    const store = new ResilientResponseStore(inner, logger, guard);
    await store.put(recordOfBytes('tenant-a', 'resp_big', 4097), 60, T0);
    expect(logger.warnings).toEqual([
      {
        message: 'response not stored: larger than the response store keeps',
        fields: { tenant_id: 'tenant-a', response_id: 'resp_big', bytes: 4097, max_bytes: 4096 },
      },
    ]);
    expect(guard.status).toBe('ok');
    await store.put(stored('tenant-a', 'resp_1'), 60, T0);
    expect(await store.get('tenant-a', 'resp_1', T0)).toEqual(stored('tenant-a', 'resp_1'));
  });
});
