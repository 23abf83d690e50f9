// Each Lambda bundle, built as the stack builds it, run in a directory holding nothing but the
// bundle, with only what the Lambda Node.js runtime provides beside it: the AWS SDK's @aws-sdk/*
// packages and the dependency tree they declare, reached through NODE_PATH as in the runtime.
// Each serves one request of its kind against the deployed configuration's services (DynamoDB,
// SQS, Secrets Manager on 127.0.0.1), with tracing on as in Lambda (the X-Ray SDK loads).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { builtinModules } from 'node:module';
import { BUNDLE_FILE } from '../../lib/constructs/gateway-function';
import { ENTRIES } from '../infra/synth';
import { usageEvent } from '../contract/usage-store.contract';
import { openaiChunk, SSE_HEAD, writeAndEnd } from '../fakes/scripted-upstream';
import { ADMIN_PASSWORD, startDeployedServices, TENANT_KEY, type DeployedFunction, type DeployedServices } from '../helpers/deployed-services';
import { httpApiEvent } from '../helpers/http-api-event';
import { buildFunction, copyRuntimeModules, invokeBundle, type Invocation } from '../helpers/lambda-bundles';
import { functionUrlEvent, sqsEvent } from '../helpers/lambda-events';

jest.setTimeout(60_000);

/** Entry → the function's name here; extra externals as the stack gives them (no Redis configured). */
const FUNCTIONS: Record<(typeof ENTRIES)[number], DeployedFunction> = {
  'functions/chat/handler.ts': 'chat',
  'functions/admin/lambda.ts': 'admin',
  'functions/usage/api-lambda.ts': 'usage',
  'functions/usage/aggregator-lambda.ts': 'aggregator',
};

let services: DeployedServices;
let workdir: string;
let runtimeModules: string;
const taskRoot = (fn: DeployedFunction): string => path.join(workdir, fn);

beforeAll(async () => {
  workdir = mkdtempSync(path.join(tmpdir(), 'ai-gateway-bundles-'));
  runtimeModules = copyRuntimeModules(path.join(workdir, 'runtime'));
  [services] = await Promise.all([
    startDeployedServices(),
    ...ENTRIES.map((entry) => buildFunction(entry, taskRoot(FUNCTIONS[entry]), { extraExternals: ['ioredis'] })),
  ]);
}, 120_000);

afterAll(async () => {
  await services?.close();
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

const invoke = (fn: DeployedFunction, event: unknown): Promise<Invocation> =>
  invokeBundle({ taskRoot: taskRoot(fn), nodePath: runtimeModules, env: services.environment(fn), event });

/** What a failed invocation printed, for the assertion message. */
const tail = (inv: Invocation): string => inv.output.split('\n').slice(-15).join('\n');

test('the runtime stand-in holds the SDK and what it declares, not the rest of the project', () => {
  const resolveFromTask = (name: string): string | undefined => {
    try {
      return require.resolve(name, { paths: [taskRoot('chat'), runtimeModules] });
    } catch {
      return undefined;
    }
  };
  expect(resolveFromTask('@aws-sdk/client-dynamodb')).toContain(runtimeModules);
  for (const projectOnly of ['@aws-lambda-powertools/tracer', 'aws-xray-sdk-core', 'valibot', 'ioredis']) expect(resolveFromTask(projectOnly)).toBeUndefined();
});

test('each bundle requires nothing from outside but node: modules, the AWS SDK, and ioredis (left out when unused)', () => {
  const builtins = new Set(builtinModules);
  for (const fn of Object.values(FUNCTIONS)) {
    const code = readFileSync(path.join(taskRoot(fn), BUNDLE_FILE), 'utf8');
    const required = new Set([...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1] as string));
    const outside = [...required].filter((name) => !builtins.has(name.replace(/^node:/, '')) && !name.startsWith('@aws-sdk/') && name !== 'ioredis');
    expect({ fn, outside }).toEqual({ fn, outside: [] });
    // Dynamic import() would bypass NODE_PATH, where the runtime's SDK is found.
    expect({ fn, dynamicImports: /\bimport\("/.test(code) }).toEqual({ fn, dynamicImports: false });
  }
});

test('chat: a streamed completion, its usage event on the queue before the invocation returned', async () => {
  services.upstream.script((_req, res) => writeAndEnd(res, 200, SSE_HEAD, [openaiChunk(''), openaiChunk('Hello'), openaiChunk(' there'), 'data: [DONE]\n\n']));
  const before = services.sqs.requests.length;
  const inv = await invoke(
    'chat',
    functionUrlEvent({
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    }),
  );
  const result = inv.result as { prelude: { statusCode: number; headers: Record<string, string> }; body: string; ended: boolean } | undefined;
  expect({ status: result?.prelude.statusCode, output: result ? '' : tail(inv) }).toEqual({ status: 200, output: '' });
  expect(result?.prelude.headers['content-type']).toContain('text/event-stream');
  expect(result?.body).toContain('Hello');
  expect(result?.body.trimEnd().endsWith('data: [DONE]')).toBe(true);
  expect(result?.ended).toBe(true);
  // The process exits as soon as the handler returns: anything sent later would be missing.
  const sent = services.sqs.requests.slice(before).filter((r) => r.action.startsWith('SendMessage'));
  expect(JSON.stringify(sent.map((r) => r.body))).toContain('team-a');
  expect(inv.output).not.toMatch(/Cannot find (module|package)/);
});

test('admin: the HTTP API event lists tenants with the first admin from the secret', async () => {
  const inv = await invoke(
    'admin',
    httpApiEvent({ method: 'GET', path: '/admin/tenants', headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}` } }),
  );
  const result = inv.result as { statusCode: number; body: string } | undefined;
  expect({ status: result?.statusCode, output: result?.statusCode === 200 ? '' : tail(inv) }).toEqual({ status: 200, output: '' });
  expect(result?.body).toContain('team-a');
});

test('usage API: a tenant reads its own usage with its key', async () => {
  const inv = await invoke('usage', httpApiEvent({ method: 'GET', path: '/v1/usage', headers: { authorization: `Bearer ${TENANT_KEY}` } }));
  const result = inv.result as { statusCode: number; body: string } | undefined;
  expect({ status: result?.statusCode, output: result?.statusCode === 200 ? '' : tail(inv) }).toEqual({ status: 200, output: '' });
  expect(JSON.parse(result?.body ?? '{}')).toMatchObject({ tenant_id: 'team-a' });
});

test('aggregator: an SQS batch is applied, no record reported failed', async () => {
  const inv = await invoke('aggregator', sqsEvent([JSON.stringify(usageEvent({ tenant_id: 'team-a', request_id: `bundle-${process.pid}` }))]));
  expect({ result: inv.result, output: inv.result ? '' : tail(inv) }).toEqual({ result: { batchItemFailures: [] }, output: '' });
});

test('control: a bundle leaving @smithy/* to the runtime fails in the same directory', async () => {
  const dir = path.join(workdir, 'chat-without-smithy');
  await buildFunction('functions/chat/handler.ts', dir, { extraExternals: ['@smithy/*', 'ioredis'] });
  const inv = await invokeBundle({
    taskRoot: dir,
    nodePath: runtimeModules,
    env: services.environment('chat'),
    event: functionUrlEvent({ method: 'GET', path: '/v1/models', headers: { authorization: `Bearer ${TENANT_KEY}` } }),
  });
  expect(inv.output).toMatch(/Cannot find (module|package) '@smithy\//);
  expect((inv.result as { prelude?: { statusCode: number } } | undefined)?.prelude?.statusCode).not.toBe(200);
});
