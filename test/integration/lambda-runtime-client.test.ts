// The chat and admin bundles under AWS's runtime interface client (aws-lambda-ric on Node 24),
// against an emulator of the Lambda Runtime API with a function URL in front, beside only the
// runtime's packages, with the deployed configuration's services on 127.0.0.1 and tracing on.
// What a client sees: chunks as the provider produces them, a failing provider ending the stream
// visibly, usage handed over before the invocation ends, the admin API answering an HTTP API event.
import http from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openaiChunk, SSE_HEAD } from '../fakes/scripted-upstream';
import { ADMIN_PASSWORD, startDeployedServices, TENANT_KEY, type DeployedServices } from '../helpers/deployed-services';
import { eventually } from '../helpers/eventually';
import { httpApiEvent } from '../helpers/http-api-event';
import { buildFunction, copyRuntimeModules } from '../helpers/lambda-bundles';
import { startRuntimeApi, type RuntimeApi } from '../helpers/lambda-runtime-api';
import { runtimeClientInstall, startRuntimeClient, type RunningRuntimeClient, type RuntimeClientInstall } from '../helpers/lambda-runtime-client';

jest.setTimeout(60_000);

let services: DeployedServices;
let install: RuntimeClientInstall;
let workdir: string;
let runtimeModules: string;
const started: Array<{ api: RuntimeApi; client: RunningRuntimeClient }> = [];

beforeAll(async () => {
  install = runtimeClientInstall();
  workdir = mkdtempSync(path.join(tmpdir(), 'ai-gateway-ric-'));
  runtimeModules = copyRuntimeModules(path.join(workdir, 'runtime'));
  [services] = await Promise.all([
    startDeployedServices(),
    buildFunction('functions/chat/handler.ts', path.join(workdir, 'chat'), { extraExternals: ['ioredis'] }),
    buildFunction('functions/admin/lambda.ts', path.join(workdir, 'admin'), { extraExternals: ['ioredis'] }),
  ]);
}, 900_000);

afterAll(async () => {
  for (const { api, client } of started) {
    await client.stop();
    await api.close();
  }
  await services?.close();
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

/** A Runtime API and the runtime client on it, serving the bundle in workdir/<name>. */
async function startFunction(
  name: string,
  env: Record<string, string>,
  onNext?: (nth: number) => void,
): Promise<{ api: RuntimeApi; client: RunningRuntimeClient }> {
  const api = await startRuntimeApi({ onNext });
  const client = startRuntimeClient({
    node: install.node24,
    ric: install.ric,
    taskRoot: path.join(workdir, name),
    nodePath: runtimeModules,
    runtimeApi: api.address,
    env,
  });
  started.push({ api, client });
  return { api, client };
}

/** A raw HTTP client on the function URL that notes what it has received so far. */
function post(url: string, body: unknown): { status: Promise<number>; text: () => string; ended: Promise<'end' | 'cut'> } {
  let received = '';
  let status!: (s: number) => void;
  let ended!: (how: 'end' | 'cut') => void;
  const result = {
    status: new Promise<number>((r) => (status = r)),
    text: () => received,
    ended: new Promise<'end' | 'cut'>((r) => (ended = r)),
  };
  const req = http.request(url, { method: 'POST', headers: { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json' } }, (res) => {
    status(res.statusCode ?? 0);
    res.setEncoding('utf8');
    res.on('data', (t: string) => (received += t));
    res.on('end', () => ended('end'));
    res.on('aborted', () => ended('cut'));
    res.on('error', () => ended('cut'));
  });
  req.on('error', () => ended('cut'));
  req.end(JSON.stringify(body));
  return result;
}

describe('chat function under the runtime client', () => {
  let api: RuntimeApi;
  let client: RunningRuntimeClient;
  /** The usage queue's request count at each moment the runtime asked for its next invocation. */
  const queueAtNext: number[] = [];
  let upstreamResponse: http.ServerResponse | undefined;

  beforeAll(async () => {
    ({ api, client } = await startFunction('chat', services.environment('chat'), () => queueAtNext.push(services.sqs.requests.length)));
    // The upstream answers step by step, as the test writes to it.
    services.upstream.script((_req, res) => {
      res.writeHead(200, SSE_HEAD);
      res.flushHeaders();
      upstreamResponse = res;
    });
    await eventually('the runtime to finish its init', () => api.nextCalls >= 1 || client.child.exitCode !== null, 20_000);
    expect(client.child.exitCode).toBeNull();
  });

  const streamRequest = { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Count to three.' }] };
  const nextUpstream = async (): Promise<http.ServerResponse> => {
    const { value } = await eventually('the provider to be called', () => upstreamResponse);
    upstreamResponse = undefined;
    return value;
  };

  test('chunks reach the client as the provider produces them; usage is on the queue before the invocation ends', async () => {
    const queueBefore = services.sqs.requests.length;
    const nextBefore = api.nextCalls;
    const call = post(`${api.functionUrl}/v1/chat/completions`, streamRequest);
    const upstream = await nextUpstream();
    upstream.write(openaiChunk(''));
    upstream.write(openaiChunk('one'));
    // Each word is written only once the previous one has reached the client: nothing is held back.
    expect(await call.status).toBe(200);
    await eventually('"one" at the client', () => call.text().includes('one'));
    expect(call.text()).not.toContain('two');
    upstream.write(openaiChunk(' two'));
    await eventually('"two" at the client', () => call.text().includes('two'));
    upstream.write(openaiChunk(' three'));
    await eventually('"three" at the client', () => call.text().includes('three'));
    upstream.end(
      `${openaiChunk('', { choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }] })}` +
        `data: ${JSON.stringify({ id: 'chatcmpl-fault', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [], usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } })}\n\n` +
        'data: [DONE]\n\n',
    );
    expect(await call.ended).toBe('end');
    expect(call.text().trimEnd().endsWith('data: [DONE]')).toBe(true);

    // The invocation ends when the runtime asks for the next one (Lambda may freeze it from then on).
    await eventually('the invocation to end', () => api.nextCalls > nextBefore);
    const queueWhenEnded = queueAtNext[nextBefore] as number;
    const sent = services.sqs.requests.slice(queueBefore, queueWhenEnded).filter((r) => r.action.startsWith('SendMessage'));
    expect(JSON.stringify(sent.map((r) => r.body))).toContain('team-a');
    expect(api.outcomes.at(-1)).toMatchObject({ kind: 'streamed' });
    expect(api.outcomes.at(-1)).not.toHaveProperty('error');
  });

  test('a provider failing mid-stream ends the stream with an error event, not a clean [DONE]', async () => {
    const call = post(`${api.functionUrl}/v1/chat/completions`, streamRequest);
    const upstream = await nextUpstream();
    upstream.write(openaiChunk(''));
    upstream.write(openaiChunk('one'));
    await eventually('"one" at the client', () => call.text().includes('one'));
    upstream.socket?.destroy();
    await call.ended;
    const events = call
      .text()
      .split('\n\n')
      .filter((e) => e.startsWith('data: '));
    expect(events.some((e) => e.includes('"error"'))).toBe(true);
    expect(call.text()).not.toContain('[DONE]');
  });

  test('init: no X-Ray "missing trace data" error for the calls made before the first invocation', () => {
    expect(client.output()).not.toContain('Missing AWS Lambda trace data');
    expect(client.output()).not.toMatch(/Cannot find (module|package)/);
  });
});

test('the emulator speaks the streaming protocol: a handler failing mid-stream is reported in the trailers and the client is cut off', async () => {
  // The smallest streaming handler that fails after its first chunk, as the runtime client runs it.
  mkdirSync(path.join(workdir, 'failing'), { recursive: true });
  writeFileSync(
    path.join(workdir, 'failing', 'index.js'),
    `exports.handler = awslambda.streamifyResponse(async (event, stream) => {
  stream = awslambda.HttpResponseStream.from(stream, { statusCode: 200, headers: { 'content-type': 'text/plain' } });
  stream.write('first part;');
  await new Promise((resolve) => setImmediate(resolve));
  throw new Error('broke after the first part');
});
`,
  );
  const { api } = await startFunction('failing', { AWS_REGION: 'us-east-1' });
  const call = post(`${api.functionUrl}/`, {});
  expect(await call.status).toBe(200);
  expect(await call.ended).toBe('cut');
  expect(call.text()).toBe('first part;');
  await eventually('the outcome', () => api.outcomes.length > 0);
  expect(api.outcomes[0]).toMatchObject({ kind: 'streamed', error: { errorType: 'Error', errorMessage: 'broke after the first part' } });
});

test('a bad setting fails the init, reported to the Runtime API with the variable named', async () => {
  const { api, client } = await startFunction('chat', { ...services.environment('chat'), LOG_LEVEL: 'loud' });
  const error = await api.initError;
  expect(error.errorMessage).toContain('LOG_LEVEL');
  expect(await client.exited).not.toBe(0);
});

test('admin function: an HTTP API event answered with the first admin from the secret', async () => {
  const { api, client } = await startFunction('admin', services.environment('admin'));
  const basic = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;
  const outcome = await api.invoke(httpApiEvent({ method: 'GET', path: '/admin/tenants', headers: { authorization: basic } }));
  expect(outcome.kind).toBe('response');
  const payload = (outcome as { payload: { statusCode: number; body: string } }).payload;
  expect(payload.statusCode).toBe(200);
  expect(JSON.parse(payload.body)).toMatchObject({ data: expect.arrayContaining([expect.objectContaining({ id: 'team-a' })]) });

  const refused = await api.invoke(httpApiEvent({ method: 'GET', path: '/admin/tenants', headers: { authorization: 'Basic YWRtaW46bm9wZQ==' } }));
  expect((refused as { payload: { statusCode: number } }).payload.statusCode).toBe(401);
  // Its init read the secret and wrote the first admin: untraced, without X-Ray errors.
  expect(client.output()).not.toContain('Missing AWS Lambda trace data');
});
