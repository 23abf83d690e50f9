// Failed-login throttling over real HTTP (the local server + the admin handler): per source
// address and per (username, address), never per username alone; X-Forwarded-For believed only
// as far as TRUST_PROXY says; failed logins logged with username and address, never the password.
import { ensureBootstrapAdmin, createAdminApi, isAdminPath } from '../../functions/admin';
import { MemoryAdminUserRepository } from '../../functions/adapters/memory/admin-users';
import { MemoryAuditLog } from '../../functions/adapters/memory/audit-log';
import { MemoryTenantRepository } from '../../functions/adapters/memory/tenant-repository';
import { createJsonLogger } from '../../functions/core/logger';
import { startServer, type RunningServer } from '../../functions/local/server';

interface Started {
  url: string;
  logs: string[];
  server: RunningServer;
}

const started: RunningServer[] = [];
afterAll(async () => {
  await Promise.all(started.map((s) => s.shutdown(1000)));
});

async function start(trustProxy: number): Promise<Started> {
  const users = new MemoryAdminUserRepository();
  await ensureBootstrapAdmin(users, { password: 'right-password' });
  const logs: string[] = [];
  const logger = createJsonLogger('info', (line) => void logs.push(line));
  const admin = createAdminApi({ tenants: new MemoryTenantRepository([]), users, audit: new MemoryAuditLog(), authEnabled: true, trustProxy, logger });
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    maxBodyBytes: 1 << 20,
    logger,
    handle: (req) => (isAdminPath(req.path) ? admin(req) : Promise.resolve({ status: 404, headers: {}, body: '' })),
  });
  started.push(server);
  return { url: server.url, logs, server };
}

async function login(s: Started, username: string, password: string, forwardedFor?: string): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
  if (forwardedFor !== undefined) headers['x-forwarded-for'] = forwardedFor;
  const res = await fetch(`${s.url}/admin/tenants`, { headers });
  await res.arrayBuffer();
  return res;
}

describe('admin login throttling over HTTP', () => {
  it('five bad logins for a username from one address do not lock that admin out from another address', async () => {
    const s = await start(1);
    for (let i = 0; i < 5; i++) expect((await login(s, 'admin', `wrong-${i}`, '198.51.100.66')).status).toBe(401);
    const attacker = await login(s, 'admin', 'right-password', '198.51.100.66');
    expect(attacker.status).toBe(429);
    expect(Number(attacker.headers.get('retry-after'))).toBeGreaterThan(0);
    // The real admin, elsewhere, is not denied service by someone else's failures.
    expect((await login(s, 'admin', 'right-password', '192.0.2.10')).status).toBe(200);
  });

  it('guesses spread over many usernames from one address are throttled (after 20)', async () => {
    const s = await start(1);
    for (let i = 0; i < 20; i++) expect((await login(s, `guess${i}`, 'pw', '203.0.113.7')).status).toBe(401);
    expect((await login(s, 'guess-next', 'pw', '203.0.113.7')).status).toBe(429);
    expect((await login(s, 'admin', 'right-password', '203.0.113.7')).status).toBe(429);
    expect((await login(s, 'admin', 'right-password', '203.0.113.8')).status).toBe(200);
  });

  it('without TRUST_PROXY a forged X-Forwarded-For does not escape the throttle', async () => {
    const s = await start(0);
    for (let i = 0; i < 20; i++) expect((await login(s, `guess${i}`, 'pw', `10.1.0.${i}`)).status).toBe(401);
    expect((await login(s, 'guess-next', 'pw', '10.1.1.1')).status).toBe(429);
  });

  it('logs a failed login with the username and the source address, never the password', async () => {
    const s = await start(1);
    await login(s, 'admin', 'Sup3r-s3cret-typo', '198.51.100.23');
    const failed = s.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.message === 'admin login failed');
    expect(failed).toEqual([expect.objectContaining({ level: 'warn', username: 'admin', source_address: '198.51.100.23' })]);
    expect(s.logs.join('')).not.toContain('Sup3r-s3cret-typo');
  });
});
