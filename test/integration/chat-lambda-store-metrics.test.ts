// The chat Lambda's store metrics as CloudWatch receives them: the real handler behind an
// emulated function URL, its stores in DynamoDB (dynalite behind a TCP proxy that is cut to take
// the store away), the fake OpenAI upstream behind it. While the store is unreachable the
// requests are still answered, and each invocation prints, before it returns, EMF documents with
// aigateway_store_errors_total (Count, by store and operation) and aigateway_store_degraded
// (unitless), which the stack's StoreErrors alarm and dashboard read.
import OpenAI from 'openai';
import { startFakeSqs, type FakeAws, type SqsRequest } from '../fakes/aws-services';
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { captureOutput, type CapturedOutput } from '../helpers/captured-output';
import { startDynalite, uniqueTablePrefix, type RunningDynalite } from '../helpers/dynalite';
import { DEFAULT_KEY } from '../helpers/gateway';
import { installLambdaStreamingGlobals, serveFunctionUrl, uninstallLambdaStreamingGlobals, type EmulatedFunctionUrl } from '../helpers/lambda-streaming';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';
import { METRIC } from '../../functions/core/metrics';

jest.setTimeout(30_000);

interface EmfDocument {
  _aws: { CloudWatchMetrics: Array<{ Namespace: string; Metrics: Array<{ Name: string; Unit: string }> }> };
  [key: string]: unknown;
}

let dynalite: RunningDynalite;
let proxy: TcpProxy;
let upstream: FakeUpstream;
let sqs: FakeAws<SqsRequest>;
let fn: EmulatedFunctionUrl;
let client: OpenAI;
let output: CapturedOutput;
const saved: Record<string, string | undefined> = {};

const emf = (): EmfDocument[] => output.lines().filter((l) => l._aws !== undefined) as unknown as EmfDocument[];
const unitOf = (doc: EmfDocument, name: string): string | undefined => doc._aws.CloudWatchMetrics[0]?.Metrics.find((m) => m.Name === name)?.Unit;
/** Every invocation of the handler, settled when the handler returns (after its response). */
const invocations: Array<Promise<void>> = [];

/** One request; resolves once its invocation has returned (what it prints at the end is printed). */
async function ask(): Promise<void> {
  const before = invocations.length;
  await client.chat.completions.create({ model: 'gpt-4o', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
  expect(invocations).toHaveLength(before + 1);
  await invocations[before];
}

beforeAll(async () => {
  output = captureOutput();
  [dynalite, upstream, sqs] = await Promise.all([startDynalite(), startOpenAIUpstream(), startFakeSqs()]);
  proxy = await startTcpProxy({ port: Number(new URL(dynalite.endpoint).port) });
  const tables = uniqueTablePrefix('chat-metrics');
  const env = {
    LOG_LEVEL: 'info',
    DEFAULT_PROVIDER: 'openai',
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: upstream.url,
    OLLAMA_BASE_URL: 'http://127.0.0.1:1',
    POWERTOOLS_SERVICE_NAME: 'ai-gateway-chat',
    POWERTOOLS_METRICS_NAMESPACE: 'AiGateway',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    DYNAMODB_ENDPOINT: `http://127.0.0.1:${proxy.port}`,
    TENANTS_TABLE: `${tables}tenants`,
    STATE_TABLE: `${tables}state`,
    USAGE_TABLE: `${tables}usage`,
    // As the stack configures it: usage events go to SQS (a fake on its JSON protocol).
    USAGE_QUEUE_URL: `${sqs.url}/123456789012/ai-gateway-usage`,
  };
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  installLambdaStreamingGlobals();
  const { handler } = await import('../../functions/chat/handler');
  fn = await serveFunctionUrl((event, stream, context) => {
    const invocation = Promise.resolve(handler(event, stream, context));
    invocations.push(
      invocation.then(
        () => undefined,
        () => undefined,
      ),
    );
    return invocation;
  });
  client = new OpenAI({ apiKey: DEFAULT_KEY, baseURL: `${fn.url}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await fn?.close();
  await proxy?.close();
  await Promise.all([upstream?.close(), dynalite?.close(), sqs?.close()]);
  output?.restore();
  uninstallLambdaStreamingGlobals();
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

test('with the store up: the degraded gauge says 0 for dynamodb and no store errors are printed', async () => {
  await ask();
  const docs = emf();
  expect(docs.filter((d) => d[METRIC.storeErrors] !== undefined)).toEqual([]);
  expect(docs.find((d) => d[METRIC.storeDegraded] !== undefined)).toMatchObject({ [METRIC.storeDegraded]: 0, store: 'dynamodb', service: 'ai-gateway-chat' });
});

const STORE_CUT_OFF =
  'with the store cut off: requests are answered, and each invocation prints its store errors (Count) and the degraded state (unitless) before returning';
test(STORE_CUT_OFF, async () => {
  await proxy.refuse();
  try {
    const printed: number[] = [];
    for (let i = 0; i < 4; i++) {
      await ask(); // answered (the OpenAI client throws otherwise): last-known tenant, limits counted locally
      printed.push(emf().filter((d) => d[METRIC.storeErrors] !== undefined).length);
    }
    // The first invocation already printed its errors: flushed per invocation, not later.
    expect(printed[0]).toBeGreaterThan(0);
    const errors = emf().filter((d) => d[METRIC.storeErrors] !== undefined);
    for (const d of errors) {
      expect(d).toMatchObject({ store: 'dynamodb', service: 'ai-gateway-chat', operation: expect.any(String) });
      expect(unitOf(d, METRIC.storeErrors)).toBe('Count');
      expect(d._aws.CloudWatchMetrics[0]?.Namespace).toBe('AiGateway');
    }
    const degraded = emf().filter((d) => d[METRIC.storeDegraded] !== undefined);
    expect(degraded.at(-1)).toMatchObject({ [METRIC.storeDegraded]: 1, store: 'dynamodb' });
    expect(unitOf(degraded.at(-1) as EmfDocument, METRIC.storeDegraded)).toBe('None');
  } finally {
    await proxy.restore();
  }
});
