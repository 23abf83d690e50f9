// The admin Lambda entry as API Gateway would call it: real HTTP API v2 events, DynamoDB
// (dynalite) behind it, auth always on. The first admin credential comes from Secrets Manager:
// the real SDK client against a fake endpoint speaking its JSON protocol, which records each
// request and answers with the generated credential.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { apigwEvent } from '../fixtures/apigw/events';
import { startFakeSecretsManager, type FakeSecretsManager } from '../fakes/aws-services';
import { captureOutput, type CapturedOutput } from '../helpers/captured-output';
import { startDynalite, type RunningDynalite } from '../helpers/dynalite';

let secrets: FakeSecretsManager;

type Handler = (event: ReturnType<typeof apigwEvent>, context: Context) => Promise<unknown>;
type Result = Exclude<APIGatewayProxyResultV2, string>;

const context = { awsRequestId: 'test-request', functionName: 'admin' } as Context;
const ADMIN_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:AdminCredential-Xy12Ab';
const GENERATED_PASSWORD = 'generated-Pa55word-7f3c9e1b';

/** Imports a fresh copy of the entry (a cold start) with these settings on top of the common ones. */
async function coldStart(dynalite: RunningDynalite, env: Record<string, string>): Promise<Handler> {
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_REGION: 'us-east-1',
    DYNAMODB_ENDPOINT: dynalite.endpoint,
    TENANTS_TABLE: `admin-lambda-${Date.now()}-${Math.random().toString(16).slice(2, 8)}`,
    USAGE_TABLE: `admin-usage-${Date.now()}`,
    DEFAULT_TENANT_ENABLED: 'false',
    LOG_LEVEL: 'info',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    ...env,
  });
  let handler: Handler | undefined;
  await jest.isolateModulesAsync(async () => {
    handler = (await import('../../functions/admin/lambda')).handler as Handler;
  });
  return handler!;
}

describe('admin Lambda entry', () => {
  let dynalite: RunningDynalite;
  const saved = { ...process.env };
  let output: CapturedOutput;

  beforeAll(async () => {
    output = captureOutput();
    [dynalite, secrets] = await Promise.all([startDynalite(), startFakeSecretsManager()]);
  });
  afterAll(async () => {
    output.restore();
    await Promise.all([dynalite.close(), secrets.close()]);
    process.env = saved;
  });

  describe('with the generated credential in Secrets Manager (ADMIN_SECRET_ARN)', () => {
    let handler: Handler;
    beforeAll(async () => {
      secrets.text = JSON.stringify({ username: 'admin', password: GENERATED_PASSWORD });
      // ADMIN_PASSWORD is set too: the generated secret wins.
      handler = await coldStart(dynalite, { ADMIN_SECRET_ARN, ADMIN_PASSWORD: 'not-the-admin-password' });
      await handler(apigwEvent({ method: 'GET', path: '/admin/tenants' }), context);
    });

    test('reads the secret once at cold start, by its ARN', () => {
      expect(secrets.requests.map((r) => [r.action, r.body])).toEqual([['GetSecretValue', { SecretId: ADMIN_SECRET_ARN }]]);
    });

    test('refuses requests without credentials, even though no ADMIN_AUTH_ENABLED is set', async () => {
      const res = (await handler(apigwEvent({ method: 'GET', path: '/admin/tenants' }), context)) as Result;
      expect(res.statusCode).toBe(401);
    });

    test('the generated admin manages tenants stored in DynamoDB; ADMIN_PASSWORD does not log in', async () => {
      const auth: [string, string] = ['admin', GENERATED_PASSWORD];
      const created = (await handler(apigwEvent({ method: 'POST', path: '/admin/tenants', auth, body: { name: 'from-lambda' } }), context)) as Result;
      expect(created.statusCode).toBe(201);
      const body = JSON.parse(String(created.body)) as { id: string; api_key: string };
      expect(body.api_key).toMatch(/^gw-/);
      const list = (await handler(apigwEvent({ method: 'GET', path: '/admin/tenants', auth }), context)) as Result;
      const tenants = JSON.parse(String(list.body)) as { data: Array<{ id: string }> };
      expect(tenants.data.map((t) => t.id)).toEqual([body.id]); // the default tenant is off in a deployment
      expect(String(list.body)).not.toContain(body.api_key);
      // The console's reads: providers from the state table the chat function writes, the overview from the usage table.
      const providers = (await handler(apigwEvent({ method: 'GET', path: '/admin/providers', auth }), context)) as Result;
      expect(providers.statusCode).toBe(200);
      expect(JSON.parse(String(providers.body))).toMatchObject({
        object: 'list',
        data: expect.arrayContaining([expect.objectContaining({ name: 'ollama', breaker: 'closed' })]),
      });
      const overview = (await handler(apigwEvent({ method: 'GET', path: '/admin/overview', auth }), context)) as Result;
      expect(JSON.parse(String(overview.body))).toMatchObject({ object: 'admin.overview', totals: { request_count: 0 }, top_tenants: [] });
      const alerts = (await handler(apigwEvent({ method: 'GET', path: `/admin/tenants/${body.id}/alerts`, auth }), context)) as Result;
      expect(JSON.parse(String(alerts.body))).toMatchObject({ object: 'list', data: [] });
      const usage = (await handler(apigwEvent({ method: 'GET', path: `/admin/tenants/${body.id}/usage`, auth }), context)) as Result;
      expect(usage.statusCode).toBe(200);
      expect(JSON.parse(String(usage.body))).toMatchObject({ tenant_id: body.id, totals: { request_count: 0 } });
      expect(JSON.parse(String(usage.body))).not.toHaveProperty('note'); // the usage store is wired in
      const wrong = (await handler(
        apigwEvent({ method: 'GET', path: '/admin/tenants', auth: ['admin', 'not-the-admin-password'], sourceIp: '10.0.0.9' }),
        context,
      )) as Result;
      expect(wrong.statusCode).toBe(401);
    });

    test('logs JSON lines with the Lambda request id and never the password', () => {
      const text = output.text();
      expect(text).not.toContain(GENERATED_PASSWORD);
      const lines = text
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toContainEqual(expect.objectContaining({ message: 'first admin user created', username: 'admin', from: 'ADMIN_SECRET_ARN' }));
      expect(lines.find((l) => l.message === 'admin login failed')).toMatchObject({ function_request_id: 'test-request', level: 'WARN' });
    });
  });

  test('without ADMIN_SECRET_ARN, ADMIN_PASSWORD still creates the first admin and Secrets Manager is not called', async () => {
    const before = secrets.requests.length;
    delete process.env.ADMIN_SECRET_ARN;
    const handler = await coldStart(dynalite, { ADMIN_PASSWORD: 'first-admin-password' });
    const res = (await handler(apigwEvent({ method: 'GET', path: '/admin/tenants', auth: ['admin', 'first-admin-password'] }), context)) as Result;
    expect(res.statusCode).toBe(200);
    expect(secrets.requests.length).toBe(before);
  });

  describe('the web console', () => {
    let work: string;
    beforeAll(() => {
      work = mkdtempSync(join(tmpdir(), 'admin-lambda-console-'));
      writeFileSync(join(work, 'index.html'), '<!doctype html><title>console</title>');
      writeFileSync(join(work, 'icon.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff]));
    });
    afterAll(() => rmSync(work, { recursive: true, force: true }));

    test('serves its files (binary ones base64-encoded for API Gateway) beside the admin API', async () => {
      secrets.text = JSON.stringify({ username: 'admin', password: GENERATED_PASSWORD });
      const handler = await coldStart(dynalite, { ADMIN_SECRET_ARN, CONSOLE_DIR: work });
      const index = (await handler(apigwEvent({ method: 'GET', path: '/console/' }), context)) as Result;
      expect(index.statusCode).toBe(200);
      expect(index.headers?.['content-security-policy']).toContain("default-src 'self'");
      expect(index.isBase64Encoded).toBe(false);
      expect(String(index.body)).toContain('<title>console</title>');
      const icon = (await handler(apigwEvent({ method: 'GET', path: '/console/icon.png' }), context)) as Result;
      expect(icon.isBase64Encoded).toBe(true);
      expect(Buffer.from(String(icon.body), 'base64')).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff]));
      const route = (await handler(apigwEvent({ method: 'GET', path: '/console/tenants/x' }), context)) as Result;
      expect(String(route.body)).toContain('<title>console</title>');
    });

    test('a session opened on one instance works on another (the key derives from the shared admin secret), over https only', async () => {
      secrets.text = JSON.stringify({ username: 'admin', password: GENERATED_PASSWORD });
      const env = { ADMIN_SECRET_ARN, TENANTS_TABLE: `admin-lambda-shared-${Date.now()}` };
      const first = await coldStart(dynalite, env);
      const host = 'abc123.execute-api.us-east-1.amazonaws.com';
      const signIn = (await first(
        apigwEvent({ method: 'POST', path: '/admin/session', headers: { host }, body: { username: 'admin', password: GENERATED_PASSWORD } }),
        context,
      )) as Result;
      expect(signIn.statusCode).toBe(200);
      // Payload 2.0 returns cookies in their own field, which API Gateway turns into Set-Cookie headers.
      expect(signIn.headers?.['set-cookie']).toBeUndefined();
      const setCookie = String(signIn.cookies?.[0]);
      expect(setCookie).toMatch(/; HttpOnly; SameSite=Strict; Path=\/admin; Max-Age=28800; Secure$/);
      const csrf = (JSON.parse(String(signIn.body)) as { csrf_token: string }).csrf_token;
      const cookie = setCookie.split(';')[0] as string;

      const second = await coldStart(dynalite, env);
      const write = (origin: string) => {
        const event = apigwEvent({ method: 'POST', path: '/admin/tenants', headers: { host, origin, 'x-csrf-token': csrf }, body: { name: 'via-console' } });
        // API Gateway hands cookies over in their own field, not as a header.
        event.cookies = [cookie];
        return second(event, context) as Promise<Result>;
      };
      expect((await write(`http://${host}`)).statusCode).toBe(403);
      expect((await write(`https://${host}`)).statusCode).toBe(201);
    });
  });
});
