// The admin Lambda entry as API Gateway would call it: real HTTP API v2 events, DynamoDB
// (dynalite) behind it, auth always on.
import type { APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { apigwEvent } from '../fixtures/apigw/events';
import { startDynalite, type RunningDynalite } from '../helpers/dynalite';

type Handler = (event: ReturnType<typeof apigwEvent>, context: Context) => Promise<unknown>;
type Result = Exclude<APIGatewayProxyResultV2, string>;

const context = { awsRequestId: 'test-request', functionName: 'admin' } as Context;

describe('admin Lambda entry', () => {
  let dynalite: RunningDynalite;
  let handler: Handler;
  const saved = { ...process.env };

  beforeAll(async () => {
    dynalite = await startDynalite();
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_REGION: 'us-east-1',
      DYNAMODB_ENDPOINT: dynalite.endpoint, TENANTS_TABLE: `admin-lambda-${Date.now()}`,
      DEFAULT_TENANT_ENABLED: 'false', ADMIN_PASSWORD: 'first-admin-password', LOG_LEVEL: 'error',
    });
    handler = (await import('../../functions/admin/lambda')).handler as Handler;
  });
  afterAll(async () => {
    await dynalite.close();
    process.env = saved;
  });

  test('refuses requests without credentials, even though no ADMIN_AUTH_ENABLED is set', async () => {
    const res = (await handler(apigwEvent({ method: 'GET', path: '/admin/tenants' }), context)) as Result;
    expect(res.statusCode).toBe(401);
  });

  test('the bootstrap admin from ADMIN_PASSWORD manages tenants stored in DynamoDB', async () => {
    const auth: [string, string] = ['admin', 'first-admin-password'];
    const created = (await handler(apigwEvent({ method: 'POST', path: '/admin/tenants', auth, body: { name: 'from-lambda' } }), context)) as Result;
    expect(created.statusCode).toBe(201);
    const body = JSON.parse(String(created.body)) as { id: string; api_key: string };
    expect(body.api_key).toMatch(/^gw-/);
    const list = (await handler(apigwEvent({ method: 'GET', path: '/admin/tenants', auth }), context)) as Result;
    const tenants = JSON.parse(String(list.body)) as { data: Array<{ id: string }> };
    expect(tenants.data.map((t) => t.id)).toEqual([body.id]); // the default tenant is off in a deployment
    expect(String(list.body)).not.toContain(body.api_key);
  });
});
