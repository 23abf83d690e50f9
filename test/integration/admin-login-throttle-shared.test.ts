// Failed-login counts shared across instances: two admin Lambda edges (as two warm Lambda instances,
// each with its own DynamoDB client) over one state table in an embedded DynamoDB, driven with
// API Gateway v2 events whose requestContext.http.sourceIp is the client's address.
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../functions/adapters/dynamodb/client';
import { DynamoRateLimiter } from '../../functions/adapters/dynamodb/rate-limiter';
import { ensureTables, localTableNames } from '../../functions/adapters/dynamodb/tables';
import { MemoryAdminUserRepository } from '../../functions/adapters/memory/admin-users';
import { MemoryAuditLog } from '../../functions/adapters/memory/audit-log';
import { MemoryTenantRepository } from '../../functions/adapters/memory/tenant-repository';
import { silentLogger } from '../../functions/core/logger';
import { ensureBootstrapAdmin } from '../../functions/admin/bootstrap';
import { createAdminApi } from '../../functions/admin/api';
import { httpApiEdge, type HttpApiEdge } from '../../functions/adapters/lambda/http-api-edge';
import { LoginThrottle } from '../../functions/admin/login-throttle';
import { SharedLoginThrottle } from '../../functions/admin/shared-login-throttle';
import { apigwEvent } from '../fixtures/apigw/events';
import { startDynalite, uniqueTablePrefix, type RunningDynalite } from '../helpers/dynalite';

let dynalite: RunningDynalite;
const clients: DynamoDBDocumentClient[] = [];
let tableName: string;

beforeAll(async () => {
  dynalite = await startDynalite();
  tableName = localTableNames(uniqueTablePrefix('login')).state;
  const doc = createDocumentClient({ endpoint: dynalite.endpoint, region: 'us-east-1' });
  clients.push(doc);
  await ensureTables(doc, { state: tableName });
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await dynalite.close();
});

async function instance(users: MemoryAdminUserRepository, now: () => number): Promise<HttpApiEdge> {
  const doc = createDocumentClient({ endpoint: dynalite.endpoint, region: 'us-east-1' });
  clients.push(doc);
  const throttle = new SharedLoginThrottle(new DynamoRateLimiter(doc, { tableName }), new LoginThrottle(), silentLogger);
  const api = createAdminApi({
    tenants: new MemoryTenantRepository([]),
    users,
    audit: new MemoryAuditLog(),
    authEnabled: true,
    throttle,
    now,
    logger: silentLogger,
  });
  return httpApiEdge(api, { maxBodyBytes: 1 << 20, logger: silentLogger, parseJson: true });
}

const call = async (h: HttpApiEdge, username: string, password: string, sourceIp: string): Promise<number> => {
  const event: APIGatewayProxyEventV2 = apigwEvent({ method: 'GET', path: '/admin/tenants', auth: [username, password], sourceIp });
  return (await h(event, {} as Context)).statusCode ?? 0;
};

describe('login throttling shared across instances (DynamoDB state table)', () => {
  it('failures split over two instances add up: the address is throttled on both', async () => {
    const users = new MemoryAdminUserRepository();
    await ensureBootstrapAdmin(users, { password: 'right-password' });
    const clock = { now: Date.parse('2026-03-10T12:00:05Z') };
    const a = await instance(users, () => clock.now);
    const b = await instance(users, () => clock.now);
    // 20 guesses over many usernames, alternating instances: each instance saw only 10.
    for (let i = 0; i < 20; i++) expect(await call(i % 2 ? a : b, `guess${i}`, 'pw', '203.0.113.50')).toBe(401);
    expect(await call(a, 'admin', 'right-password', '203.0.113.50')).toBe(429);
    expect(await call(b, 'admin', 'right-password', '203.0.113.50')).toBe(429);
    // The admin from elsewhere is unaffected, on either instance.
    expect(await call(a, 'admin', 'right-password', '192.0.2.1')).toBe(200);
    expect(await call(b, 'admin', 'right-password', '192.0.2.1')).toBe(200);
  });

  it('the (username, address) pair counts across instances too, and only for that pair', async () => {
    const users = new MemoryAdminUserRepository();
    await ensureBootstrapAdmin(users, { password: 'right-password' });
    const clock = { now: Date.parse('2026-03-10T12:10:05Z') };
    const a = await instance(users, () => clock.now);
    const b = await instance(users, () => clock.now);
    for (let i = 0; i < 5; i++) expect(await call(i % 2 ? a : b, 'admin', 'wrong', '198.51.100.60')).toBe(401);
    expect(await call(a, 'admin', 'right-password', '198.51.100.60')).toBe(429);
    expect(await call(b, 'admin', 'right-password', '198.51.100.61')).toBe(200);
  });
});
