// The chat Lambda behind the protected edge, end to end: `npm run smoke` → an emulated CloudFront
// edge → the emulated IAM-auth function URL → the chat handler → the fake OpenAI. The edge runs
// the stack's own viewer-request function code, checks x-amz-content-sha256 against the body as
// Lambda does for origin-access-control requests (it supports no unsigned payloads), and puts a
// SigV4 signature where the client's Authorization was, as CloudFront does.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { runInNewContext } from 'node:vm';
import type { FunctionUrlEvent } from '../../functions/adapters/lambda/function-url';
import { KEEP_VIEWER_AUTHORIZATION } from '../../lib/constructs/edge';
import { PROJECT_ROOT } from '../../lib/constructs/gateway-function';
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { captureOutput, type CapturedOutput } from '../helpers/captured-output';
import { DEFAULT_KEY } from '../helpers/gateway';
import { installLambdaStreamingGlobals, serveFunctionUrl, uninstallLambdaStreamingGlobals, type EmulatedFunctionUrl } from '../helpers/lambda-streaming';

const SIGNATURE = 'AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20261203/eu-central-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=0f';

/** The viewer-request function, run on the viewer's headers as CloudFront Functions would. */
function viewerRequest(headers: Record<string, string>): Record<string, string> {
  const cfHeaders = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, { value: v }]));
  const request = runInNewContext(`${KEEP_VIEWER_AUTHORIZATION}\nhandler(event)`, { event: { request: { headers: cfHeaders } } }) as {
    headers: Record<string, { value: string }>;
  };
  return Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, v.value]));
}

/** What reaches the function through the edge, or undefined when Lambda would refuse the signed request (403). */
function throughEdge(viewer: FunctionUrlEvent): FunctionUrlEvent | undefined {
  const headers = viewerRequest((viewer.headers ?? {}) as Record<string, string>);
  if (viewer.body) {
    const body = Buffer.from(viewer.body, viewer.isBase64Encoded ? 'base64' : 'utf8');
    if (headers['x-amz-content-sha256'] !== createHash('sha256').update(body).digest('hex')) return undefined;
  }
  return {
    ...viewer,
    headers: { ...headers, authorization: SIGNATURE },
    requestContext: { ...viewer.requestContext, authorizer: { iam: { accessKey: 'ASIAEXAMPLE', callerId: 'AROAEXAMPLE:cloudfront' } } },
  };
}

let upstream: FakeUpstream;
let edge: EmulatedFunctionUrl;
let output: CapturedOutput;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  output = captureOutput();
  upstream = await startOpenAIUpstream();
  const env = { LOG_LEVEL: 'error', DEFAULT_PROVIDER: 'openai', OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url, AWS_REGION: 'eu-central-1' };
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  installLambdaStreamingGlobals();
  const { handler } = await import('../../functions/chat/handler');
  edge = await serveFunctionUrl(async (event, stream, context) => {
    const signed = throughEdge(event);
    if (signed) return handler(signed, stream, context);
    const refused = awslambda.HttpResponseStream.from(stream, { statusCode: 403, headers: { 'content-type': 'application/json' } });
    refused.end(JSON.stringify({ message: 'Forbidden' }));
  });
});

afterAll(async () => {
  await edge?.close();
  await upstream?.close();
  output?.restore();
  uninstallLambdaStreamingGlobals();
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

function smoke(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'smoke', '--', ...args], { cwd: PROJECT_ROOT, env: process.env });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
  });
}

test('the smoke test passes through the edge: the body hash is sent, the tenant key survives the signature, streams stream', async () => {
  const run = await smoke(['--url', `${edge.url}/`, '--key', DEFAULT_KEY, '--model', 'gpt-4o']);
  expect(
    run.stdout
      .trimEnd()
      .split('\n')
      .map((l) => l.split(':')[0]),
  ).toEqual(['PASS health', 'PASS chat completion', 'PASS streamed chat completion', 'PASS usage', 'SKIP admin', 'PASS smoke test']);
  expect(run.code).toBe(0);
  // What the function saw: CloudFront's signature replaced by the client's own header.
  const posts = edge.events.filter((e) => e.requestContext.http.method === 'POST');
  expect(posts).toHaveLength(2);
  for (const e of posts) expect(e.headers?.['x-amz-content-sha256']).toMatch(/^[0-9a-f]{64}$/);
}, 60_000);

test('without the body hash the edge refuses the request before the gateway sees it; a forged x-viewer-authorization is not trusted', async () => {
  const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
  const unsigned = await fetch(`${edge.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${DEFAULT_KEY}`, 'content-type': 'application/json' },
    body,
  });
  expect(unsigned.status).toBe(403);
  // A key smuggled in the edge's own header, with no Authorization of the client's: removed by the edge, so 401.
  const forged = await fetch(`${edge.url}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      'x-viewer-authorization': `Bearer ${DEFAULT_KEY}`,
      'content-type': 'application/json',
      'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'),
    },
    body,
  });
  expect(forged.status).toBe(401);
});
