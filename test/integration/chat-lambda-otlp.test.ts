// The chat function as built for Lambda, with OTLP_ENDPOINT at a (fake) collector: the request's
// spans reach it before the handler returns, in the client's trace, with the upstream called
// inside it. Without the endpoint the exporter's file is never loaded, and the chat bundle holds
// nothing of the OpenTelemetry SDK either way.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FunctionUrlEvent } from '../../functions/adapters/lambda/function-url';
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { startOtlpReceiver, type OtlpReceiver } from '../fakes/otlp-receiver';
import { buildChatAsset, invokeChatAsset } from '../helpers/built-chat-function';
import { DEFAULT_KEY } from '../helpers/gateway';

const CLIENT_TRACE = '0af7651916cd43dd8448eb211c80319c';
const CLIENT_SPAN = 'b7ad6b7169203331';
/** The OTLP exporters' user agent: present in any build that holds them. */
const EXPORTER_MARK = 'OTel-OTLP-Exporter-JavaScript';

const chatEvent = (): FunctionUrlEvent =>
  ({
    version: '2.0',
    rawPath: '/v1/chat/completions',
    rawQueryString: '',
    headers: {
      authorization: `Bearer ${DEFAULT_KEY}`,
      'content-type': 'application/json',
      traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`,
      tracestate: 'vendor=1',
    },
    requestContext: { http: { method: 'POST', path: '/v1/chat/completions', sourceIp: '127.0.0.1' } },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hi' }] }),
    isBase64Encoded: false,
  }) as unknown as FunctionUrlEvent;

let workdir: string;
let assetDir: string;
let upstream: FakeUpstream;
let receiver: OtlpReceiver;

beforeAll(async () => {
  workdir = mkdtempSync(join(tmpdir(), 'chat-otlp-'));
  [assetDir, upstream, receiver] = await Promise.all([buildChatAsset(workdir), startOpenAIUpstream(), startOtlpReceiver()]);
}, 120_000);
afterAll(async () => {
  await Promise.all([upstream?.close(), receiver?.close()]);
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

const baseEnv = (): Record<string, string> => ({
  LOG_LEVEL: 'warn',
  DEFAULT_PROVIDER: 'openai',
  OPENAI_API_KEY: 'sk-test',
  OPENAI_BASE_URL: upstream.url,
  POWERTOOLS_SERVICE_NAME: 'ai-gateway',
  POWERTOOLS_METRICS_NAMESPACE: 'AiGateway',
});

test('the chat bundle holds none of the OpenTelemetry SDK; the exporter is a file of its own beside it', () => {
  expect(readFileSync(join(assetDir, 'gateway.js'), 'utf8').includes(EXPORTER_MARK)).toBe(false);
  expect(readFileSync(join(assetDir, 'otel.js'), 'utf8').includes(EXPORTER_MARK)).toBe(true);
});

test("OTLP_ENDPOINT set: the request's spans are at the collector when the handler returns", async () => {
  const invocation = await invokeChatAsset(assetDir, { ...baseEnv(), OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'gw-lambda' }, chatEvent());
  expect(invocation.status).toBe(200);
  expect(invocation.loaded).toContain('otel.js');
  const body = JSON.parse(invocation.body) as { x_gateway: { trace_id: string } };
  expect(body.x_gateway.trace_id).toBe(CLIENT_TRACE);
  // No waiting: the handler returned only after the gateway's flush handed the spans over.
  const spans = receiver.spans.filter((s) => s.traceId === CLIENT_TRACE);
  const server = spans.find((s) => s.kind === 2);
  const call = spans.find((s) => s.kind === 3);
  expect(server).toMatchObject({ name: 'POST /v1/chat/completions', parentSpanId: CLIENT_SPAN });
  expect(server?.resource['service.name']).toBe('gw-lambda');
  expect(call).toMatchObject({ name: 'chat gpt-4o-mini', parentSpanId: server?.spanId });
  expect(call?.attributes).toMatchObject({ 'gen_ai.provider.name': 'openai', 'gen_ai.response.finish_reasons': ['stop'] });
  const sent = upstream.requests.at(-1)?.headers;
  expect(sent?.traceparent).toBe(`00-${CLIENT_TRACE}-${call?.spanId}-01`);
  expect(sent?.tracestate).toBe('vendor=1');
  expect(receiver.metrics.some((m) => m.name === 'gen_ai.client.token.usage')).toBe(true);
}, 30_000);

test('without OTLP_ENDPOINT the exporter is never loaded', async () => {
  const invocation = await invokeChatAsset(assetDir, baseEnv(), chatEvent());
  expect(invocation.status).toBe(200);
  expect(invocation.loaded).toEqual(['gateway.js', 'index.js', 'invoke.cjs']);
}, 30_000);
