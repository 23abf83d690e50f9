// The chat Lambda (emulated RESPONSE_STREAM function URL) as deployed: tenants, state and usage in
// DynamoDB (dynalite in its own process, reached through the SDK's standard endpoint variable),
// usage events to SQS (a fake on its JSON protocol). DynamoDB is killed mid-test: a tenant the
// environment has seen keeps being served, a key it has never seen gets 503 store_unavailable,
// the invocation's EMF output names the store that failed, and once DynamoDB is back the
// function uses it again.
import OpenAI from 'openai';
import { createDocumentClient } from '../../functions/adapters/dynamodb/client';
import { ensureTables, localTableNames } from '../../functions/adapters/dynamodb/tables';
import { DynamoTenantRepository } from '../../functions/adapters/dynamodb/tenant-repository';
import { DEFAULT_TENANT } from '../../functions/core/tenants';
import { hashApiKey } from '../../functions/core/tenants';
import { startFakeSqs, type FakeAws, type SqsRequest } from '../fakes/aws-services';
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { captureOutput, type CapturedOutput } from '../helpers/captured-output';
import { uniqueTablePrefix } from '../helpers/dynalite';
import { installLambdaStreamingGlobals, serveFunctionUrl, uninstallLambdaStreamingGlobals, type EmulatedFunctionUrl } from '../helpers/lambda-streaming';
import { eventually } from '../helpers/eventually';
import { startRestartableDynalite, type RestartableDynalite } from '../helpers/store-processes';

const KEY = 'gw-lambda-outage-key-0123456789';
const NEVER_SEEN_KEY = 'gw-never-seen-before-0123456789';

describe('chat Lambda with DynamoDB killed and restarted', () => {
  let upstream: FakeUpstream;
  let sqs: FakeAws<SqsRequest>;
  let dynalite: RestartableDynalite;
  let fn: EmulatedFunctionUrl;
  let output: CapturedOutput;
  const saved: Record<string, string | undefined> = {};

  /** EMF documents printed since `from` (one JSON line each, as in Lambda). */
  const emf = (from: number): Array<Record<string, unknown>> =>
    output
      .lines()
      .slice(from)
      .filter((l) => '_aws' in l);

  beforeAll(async () => {
    output = captureOutput();
    [upstream, sqs, dynalite] = await Promise.all([startOpenAIUpstream(), startFakeSqs(), startRestartableDynalite({ persist: true })]);
    const tables = localTableNames(uniqueTablePrefix('lambda-outage'));
    const env = {
      LOG_LEVEL: 'warn',
      DEFAULT_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: upstream.url,
      POWERTOOLS_SERVICE_NAME: 'ai-gateway-chat',
      POWERTOOLS_METRICS_NAMESPACE: 'AiGateway',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint,
      AWS_ENDPOINT_URL_SQS: sqs.url,
      TENANTS_TABLE: tables.tenants,
      STATE_TABLE: tables.state,
      USAGE_TABLE: tables.usage,
      USAGE_QUEUE_URL: `${sqs.url}/123456789012/usage`,
      DEFAULT_TENANT_ENABLED: 'false',
      // The shortest tenant cache, so that the outage is met with an expired entry: last known good.
      TENANT_CACHE_TTL: '1',
    };
    for (const [k, v] of Object.entries(env)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    // In AWS the stack creates the tables and the admin API the tenant; here the test does both.
    const doc = createDocumentClient({ endpoint: dynalite.endpoint });
    await ensureTables(doc, tables);
    const at = new Date().toISOString();
    await new DynamoTenantRepository(doc, { tableName: tables.tenants }).create({
      ...DEFAULT_TENANT,
      id: 'team-a',
      name: 'team-a',
      rate_limit_rpm: 1000,
      budget_usd: 50,
      created_at: at,
      updated_at: at,
      version: 1,
      keys: [{ hash: hashApiKey(KEY), prefix: KEY.slice(0, 10), created_at: at }],
    });
    doc.destroy();
    installLambdaStreamingGlobals();
    const { handler } = await import('../../functions/chat/handler');
    fn = await serveFunctionUrl(handler);
  }, 30_000);

  afterAll(async () => {
    await fn?.close();
    await Promise.all([upstream?.close(), sqs?.close(), dynalite?.stop()]);
    output.restore();
    uninstallLambdaStreamingGlobals();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  const ask = (key: string): Promise<unknown> =>
    new OpenAI({ apiKey: key, baseURL: `${fn.url}/v1`, maxRetries: 0 }).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
    });

  it('serves a known tenant through the outage, refuses an unknown key with 503, reports the store, and recovers', async () => {
    await expect(ask(KEY)).resolves.toMatchObject({ object: 'chat.completion' });

    await dynalite.kill();
    // The function's own clock cannot be set: wait out the 1 s tenant cache for real.
    await new Promise((r) => setTimeout(r, 1_100));
    const mark = output.lines().length;
    // The tenant read before the outage is served as last known good; limits and budget degrade.
    for (let i = 0; i < 5; i++) await expect(ask(KEY)).resolves.toMatchObject({ object: 'chat.completion' });
    // A key never seen cannot be decided without the store: 503, retryable, never 401 or 500.
    const refused = await ask(NEVER_SEEN_KEY).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    expect(refused).toMatchObject({ status: 503, code: 'store_unavailable' });
    expect((refused as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after')).toBe('1');

    // The invocations' EMF output counts the failed calls and shows the store degraded.
    const docs = emf(mark);
    const errors = docs.filter((d) => d.store === 'dynamodb' && typeof d.aigateway_store_errors_total === 'number');
    expect(errors.length).toBeGreaterThan(0);
    expect(docs).toContainEqual(expect.objectContaining({ store: 'dynamodb', aigateway_store_degraded: 1 }));
    // One warning when the store went down, not one per request.
    const warnings = output
      .lines()
      .slice(mark)
      .filter((l) => l.message === 'store unavailable; degrading');
    expect(warnings).toHaveLength(1);

    await dynalite.restart();
    // A probe finds DynamoDB back within a second or so; then a new key is looked up again.
    await eventually(
      'the never-seen key to be decided by the store again',
      async () => {
        const err = await ask(NEVER_SEEN_KEY).then(
          () => undefined,
          (e: unknown) => e,
        );
        return (err as { status?: number } | undefined)?.status === 401 ? true : undefined;
      },
      10_000,
      200,
    );
    expect(
      output
        .lines()
        .slice(mark)
        .filter((l) => l.message === 'store available again'),
    ).toHaveLength(1);
    await expect(ask(KEY)).resolves.toMatchObject({ object: 'chat.completion' });
    // Every completion's usage event reached the queue (the last one after its response ended:
    // the function hands events over before it returns, the client does not wait for that).
    const sent = (): unknown[] => sqs.requests.flatMap((r) => (r.body as { Entries?: unknown[] }).Entries ?? []);
    await eventually('seven usage events in the queue', () => sent().length === 7, 5_000);
  }, 60_000);
});
