// The usage API Lambda entry as API Gateway (HTTP API) calls it: events derived from AWS's
// documented payload 2.0 example, DynamoDB (dynalite) behind it, no provider configured. Its
// answers must be the local server's own: the gateway there, asked the same question, gives the
// same body. It composes only the usage route's stores: its bundle holds no provider or pipeline.
import path from 'node:path';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { build } from 'esbuild';
import { composeGateway, type ComposedGateway } from '../../functions/adapters/compose';
import { CancelSignal } from '../../functions/core/cancel';
import { loadConfig } from '../../functions/config';
import { silentLogger } from '../../functions/core/logger';
import type { UsageEvent } from '../../functions/core/ports';
import { hashApiKey } from '../../functions/core/tenants';
import { apigwEvent, type EventSpec } from '../fixtures/apigw/events';
import { captureOutput, type CapturedOutput } from '../helpers/captured-output';
import { startDynalite, uniqueTablePrefix, type RunningDynalite } from '../helpers/dynalite';

type Handler = (event: ReturnType<typeof apigwEvent>, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

const context = { awsRequestId: 'usage-request', functionName: 'usage' } as Context;
const KEY = 'gw-acme-usage-api-test-key-0123456789';
const DISABLED_KEY = 'gw-off-usage-api-test-key-0123456789';

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

describe('usage API Lambda entry', () => {
  let dynalite: RunningDynalite;
  let handler: Handler;
  /** A second gateway on the same tables: what the local server would answer. */
  let local: ComposedGateway;
  const saved = { ...process.env };
  let output: CapturedOutput | undefined;

  const call = (spec: Omit<EventSpec, 'method'> & { method?: string }, token: string | null = KEY) =>
    handler(apigwEvent({ method: 'GET', ...spec, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...spec.headers } }), context);
  const errorOf = (res: APIGatewayProxyStructuredResultV2): ErrorBody => JSON.parse(String(res.body)) as ErrorBody;

  beforeAll(async () => {
    // Powertools prints EMF and logs on stdout as in Lambda; keep the test output readable.
    output = captureOutput();
    dynalite = await startDynalite();
    const prefix = uniqueTablePrefix('usage-api');
    Object.assign(process.env, {
      DYNAMODB_ENDPOINT: dynalite.endpoint,
      TENANTS_TABLE: `${prefix}tenants`,
      USAGE_TABLE: `${prefix}usage`,
      STATE_TABLE: `${prefix}state`,
      DEFAULT_TENANT_ENABLED: 'false',
      LOG_LEVEL: 'error',
      POWERTOOLS_METRICS_NAMESPACE: 'AiGateway',
    });
    local = await composeGateway(
      loadConfig(process.env, () => '{}'),
      silentLogger,
    );
    const at = new Date().toISOString();
    await local.stores.tenants.create({
      id: 'acme',
      name: 'Acme',
      enabled: true,
      rate_limit_rpm: 0,
      rate_limit_tpm: 0,
      budget_usd: 10,
      allow_overage: false,
      allowed_models: [],
      created_at: at,
      updated_at: at,
      version: 1,
      keys: [{ hash: hashApiKey(KEY), prefix: KEY.slice(0, 10), created_at: at }],
    });
    await local.stores.tenants.create({
      id: 'off',
      name: 'Off',
      enabled: false,
      rate_limit_rpm: 0,
      rate_limit_tpm: 0,
      budget_usd: 0,
      allow_overage: false,
      allowed_models: [],
      created_at: at,
      updated_at: at,
      version: 1,
      keys: [{ hash: hashApiKey(DISABLED_KEY), prefix: DISABLED_KEY.slice(0, 10), created_at: at }],
    });
    const event = (n: number, cost: number): UsageEvent => ({
      request_id: `req-usage-api-${n}`,
      tenant_id: 'acme',
      provider: 'openai',
      model: 'gpt-4o',
      prompt_tokens: 100 * n,
      completion_tokens: 10 * n,
      cached_tokens: 0,
      cache_write_tokens: 0,
      reasoning_tokens: 0,
      cost_usd: cost,
      latency_ms: 50,
      cache_hit: n === 2,
      status: 200,
      stream: false,
      timestamp: new Date().toISOString(),
      budget_usd: 10,
    });
    for (const e of [event(1, 0.75), event(2, 0), event(3, 1.5)]) await local.usage.stores.store.apply(e, async () => undefined);
    handler = (await import('../../functions/usage/api-lambda')).handler as Handler;
  });

  afterAll(async () => {
    output?.restore();
    await dynalite.close();
    process.env = saved;
  });

  test('GET /v1/usage answers exactly what the local gateway answers', async () => {
    const res = await call({ path: '/v1/usage' });
    const direct = await local.gateway.handle({
      method: 'GET',
      path: '/v1/usage',
      query: new URLSearchParams(),
      headers: { authorization: `Bearer ${KEY}` },
      body: Buffer.alloc(0),
      signal: new CancelSignal(),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['content-type']).toBe('application/json');
    expect(JSON.parse(String(res.body))).toEqual(JSON.parse(String(direct.body)));
    expect(JSON.parse(String(res.body))).toMatchObject({
      tenant_id: 'acme',
      total_cost_usd: 2.25,
      budget_usd: 10,
      budget_used_pct: 22.5,
      request_count: 3,
      prompt_tokens: 600,
      completion_tokens: 60,
      cache_hits: 1,
    });
  });

  test("without a key, or with an unknown one: 401 in OpenAI's error shape", async () => {
    for (const token of [null, 'gw-not-a-real-key-000000000000']) {
      const res = await call({ path: '/v1/usage' }, token);
      expect(res.statusCode).toBe(401);
      const body = errorOf(res);
      expect(body.error).toMatchObject({ type: expect.any(String), message: expect.any(String) });
      expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
    }
  });

  test("a disabled tenant's key: 403, as the local gateway answers", async () => {
    const res = await call({ path: '/v1/usage' }, DISABLED_KEY);
    const direct = await local.gateway.handle({
      method: 'GET',
      path: '/v1/usage',
      query: new URLSearchParams(),
      headers: { authorization: `Bearer ${DISABLED_KEY}` },
      body: Buffer.alloc(0),
      signal: new CancelSignal(),
    });
    expect([res.statusCode, direct.status]).toEqual([403, 403]);
    expect(res.body).toBe(direct.body);
    expect(errorOf(res).error.code).toBe('tenant_disabled');
    for (const name of ['content-type', 'cache-control', 'x-content-type-options']) expect(res.headers?.[name]).toBe(direct.headers[name]);
    expect(res.headers?.['x-request-id']).toMatch(/^req-/);
  });

  test('another method on /v1/usage: 405 naming GET', async () => {
    const res = await call({ method: 'POST', path: '/v1/usage', body: {} });
    expect(res.statusCode).toBe(405);
    expect(res.headers?.allow).toBe('GET');
    expect(errorOf(res).error.code).toBe('method_not_allowed');
  });

  test('any other path, even one the chat function serves: 404', async () => {
    for (const path of ['/v1/chat/completions', '/v1/models', '/admin/tenants', '/']) {
      const res = await call({ path });
      expect(res.statusCode).toBe(404);
      expect(errorOf(res).error.message).toContain('GET /v1/usage');
    }
  });

  test("a named stage's path prefix is ignored, as on an execute-api URL", async () => {
    const event = apigwEvent({ method: 'GET', path: '/prod/v1/usage', headers: { authorization: `Bearer ${KEY}` } });
    event.requestContext.stage = 'prod';
    const res = await handler(event, context);
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(String(res.body))).toMatchObject({ tenant_id: 'acme', request_count: 3 });
  });

  test('the entry bundles the usage route alone: no gateway, provider, pipeline, limiter or cache', async () => {
    const root = path.join(__dirname, '..', '..');
    const result = await build({
      entryPoints: [path.join(root, 'functions', 'usage', 'api-lambda.ts')],
      bundle: true,
      write: false,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      external: ['@aws-sdk/*', '@smithy/*', 'ioredis'],
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs).filter((f) => f.startsWith('functions/'));
    expect(inputs).toContain('functions/core/usage-route.ts');
    const composedElsewhere = new RegExp(
      String.raw`^functions\/(core\/(gateway|chat-pipeline|embeddings-pipeline|breaker|response-cache|budget)\.ts|` +
        String.raw`core\/providers\/|adapters\/(compose\/gateway|state)\.ts|adapters\/bedrock\/)`,
    );
    expect(inputs.filter((f) => composedElsewhere.test(f))).toEqual([]);
  });
});
