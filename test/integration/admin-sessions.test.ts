// Console sessions on the admin API: sign-in, the session cookie's flags, the CSRF token and the
// same-origin rule on writes, expiry on the fake clock, a deleted user or changed password, roles
// from the store, and Basic auth beside them. The admin ApiHandler over real memory stores.
import { MemoryAdminUserRepository } from '../../functions/adapters/memory/admin-users';
import { MemoryAuditLog } from '../../functions/adapters/memory/audit-log';
import { MemoryTenantRepository } from '../../functions/adapters/memory/tenant-repository';
import { createAdminApi, type AdminDeps } from '../../functions/admin/api';
import { ensureBootstrapAdmin } from '../../functions/admin/bootstrap';
import { hashPassword } from '../../functions/admin/passwords';
import { deriveSessionKey } from '../../functions/admin/session-token';
import type { ApiHandler } from '../../functions/core/api-types';
import { CancelSignal } from '../../functions/core/cancel';
import { silentLogger } from '../../functions/core/logger';
import { loadConfig } from '../../functions/config';
import { defaultCredentialRefusal } from '../../functions/local/admin-guard';
import { startLocalGateway, type LocalGateway } from '../../functions/local/app';
import type { AdminRole } from '../../functions/core/ports';

/* eslint-disable @typescript-eslint/no-explicit-any -- parsed response JSON in assertions */
const T0 = Date.parse('2026-03-10T12:00:00.000Z');
const HOST = 'gw.example.com';
const ORIGIN = `https://${HOST}`;
const PASSWORDS: Record<AdminRole, [string, string]> = {
  admin: ['admin', 'admin-password-1'],
  editor: ['ed', 'editor-password-1'],
  viewer: ['vi', 'viewer-password-1'],
};

interface Reply {
  status: number;
  headers: Record<string, string>;
  json: any;
}

interface Call {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
  remoteAddress?: string;
}

interface Env {
  clock: { now: number };
  users: MemoryAdminUserRepository;
  audit: MemoryAuditLog;
  call: (c: Call) => Promise<Reply>;
  /** Signs in and returns the cookie pair and the CSRF token. */
  signIn: (role: AdminRole, headers?: Record<string, string>) => Promise<{ cookie: string; csrf: string; reply: Reply }>;
}

async function setup(opts: Partial<Pick<AdminDeps, 'authEnabled' | 'scheme' | 'sessions'>> = {}): Promise<Env> {
  const clock = { now: T0 };
  const now = () => clock.now;
  const users = new MemoryAdminUserRepository();
  const audit = new MemoryAuditLog();
  await ensureBootstrapAdmin(users, { password: PASSWORDS.admin[1], now });
  for (const role of ['editor', 'viewer'] as const) {
    const at = new Date(T0).toISOString();
    await users.create({ username: PASSWORDS[role][0], role, password_hash: await hashPassword(PASSWORDS[role][1]), created_at: at, updated_at: at });
  }
  const api: ApiHandler = createAdminApi({
    tenants: new MemoryTenantRepository([], { now }),
    users,
    audit,
    authEnabled: opts.authEnabled ?? true,
    scheme: opts.scheme ?? 'https',
    sessions: opts.sessions ?? { key: deriveSessionKey('test key material, long enough to matter'), ttlSeconds: 3600 },
    now,
    logger: silentLogger,
  });
  const call = async (c: Call): Promise<Reply> => {
    const body = c.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(c.body));
    const headers: Record<string, string> = { host: HOST, ...(c.body === undefined ? {} : { 'content-type': 'application/json' }), ...c.headers };
    const r = await api({
      method: c.method ?? 'GET',
      path: c.path,
      query: new URLSearchParams(),
      headers,
      body,
      signal: new CancelSignal(),
      remoteAddress: c.remoteAddress ?? '192.0.2.7',
    });
    const raw = typeof r.body === 'string' ? r.body : '';
    return { status: r.status, headers: r.headers, json: raw === '' ? undefined : JSON.parse(raw) };
  };
  const signIn = async (role: AdminRole, headers: Record<string, string> = {}) => {
    const [username, password] = PASSWORDS[role];
    const reply = await call({ method: 'POST', path: '/admin/session', body: { username, password }, headers });
    expect(reply.status).toBe(200);
    const cookie = (reply.headers['set-cookie'] ?? '').split(';')[0] as string;
    return { cookie, csrf: reply.json.csrf_token as string, reply };
  };
  return { clock, users, audit, call, signIn };
}

const newTenant = (name: string) => ({ name, budget_usd: 5 });

describe('console sign-in', () => {
  let env: Env;
  beforeAll(async () => {
    env = await setup();
  });

  it('answers the session with the role, its permissions, a CSRF token and the expiry, and sets a strict HttpOnly cookie', async () => {
    const { reply, csrf } = await env.signIn('editor');
    expect(reply.json).toEqual({
      object: 'admin.session',
      username: 'ed',
      role: 'editor',
      permissions: ['tenant:read', 'tenant:write', 'usage:read'],
      csrf_token: csrf,
      expires_at: '2026-03-10T13:00:00.000Z',
    });
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(reply.headers['set-cookie']).toMatch(
      /^gw_admin_session=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+; HttpOnly; SameSite=Strict; Path=\/admin; Max-Age=3600; Secure$/,
    );
  });

  it('leaves Secure off when the request was addressed to loopback', async () => {
    for (const host of ['localhost:8080', '127.0.0.1:8080', '[::1]:8080']) {
      const { reply } = await env.signIn('viewer', { host });
      expect(reply.headers['set-cookie']).toContain('Max-Age=3600');
      expect(reply.headers['set-cookie']).not.toContain('Secure');
    }
  });

  it('401 without a Basic challenge on a wrong password or unknown user; 400 on a malformed body', async () => {
    for (const body of [
      { username: 'ed', password: 'wrong-password-1' },
      { username: 'ghost', password: 'whatever-pass' },
    ]) {
      const r = await env.call({ method: 'POST', path: '/admin/session', body, remoteAddress: '192.0.2.50' });
      expect(r.status).toBe(401);
      expect(r.json.error.code).toBe('invalid_admin_credentials');
      expect(r.headers['www-authenticate']).toBeUndefined();
      expect(r.headers['set-cookie']).toBeUndefined();
    }
    const bad = await env.call({ method: 'POST', path: '/admin/session', body: { username: 'ed' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.param).toBe('password');
  });

  it('shares the failed-login throttle with Basic auth: 429 after five failures from one address', async () => {
    const remoteAddress = '192.0.2.99';
    for (let i = 0; i < 3; i++) {
      const r = await env.call({ method: 'POST', path: '/admin/session', body: { username: 'vi', password: `bad-${i}` }, remoteAddress });
      expect(r.status).toBe(401);
    }
    for (let i = 0; i < 2; i++) {
      const r = await env.call({ path: '/admin/tenants', headers: { authorization: `Basic ${Buffer.from('vi:nope').toString('base64')}` }, remoteAddress });
      expect(r.status).toBe(401);
    }
    const r = await env.call({ method: 'POST', path: '/admin/session', body: { username: 'vi', password: PASSWORDS.viewer[1] }, remoteAddress });
    expect(r.status).toBe(429);
    expect(r.headers['retry-after']).toMatch(/^\d+$/);
  });

  it('records sign-in and sign-out in the audit trail', async () => {
    const { cookie, csrf } = await env.signIn('viewer');
    env.clock.now += 1000;
    const out = await env.call({ method: 'DELETE', path: '/admin/session', headers: { cookie, 'x-csrf-token': csrf } });
    expect(out.status).toBe(204);
    const actions = (await env.audit.list({ limit: 5 })).filter((e) => e.actor === 'vi').map((e) => e.action);
    expect(actions.slice(0, 2)).toEqual(['session.delete', 'session.create']);
  });
});

describe('a session', () => {
  let env: Env;
  beforeEach(async () => {
    env = await setup();
  });

  it('GET /admin/session answers it again; without a cookie 401 (no Basic challenge)', async () => {
    const { cookie } = await env.signIn('viewer');
    const again = await env.call({ path: '/admin/session', headers: { cookie: `theme=dark; ${cookie}` } });
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ object: 'admin.session', username: 'vi', role: 'viewer', permissions: ['tenant:read', 'usage:read'] });
    const none = await env.call({ path: '/admin/session' });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBeUndefined();
  });

  it('reads with the cookie alone; writes with the cookie and its CSRF token', async () => {
    const { cookie, csrf } = await env.signIn('editor');
    expect((await env.call({ path: '/admin/tenants', headers: { cookie } })).status).toBe(200);
    env.clock.now += 1000;
    const created = await env.call({ method: 'POST', path: '/admin/tenants', body: newTenant('a'), headers: { cookie, 'x-csrf-token': csrf, origin: ORIGIN } });
    expect(created.status).toBe(201);
    const entry = (await env.audit.list({ limit: 1 }))[0];
    expect(entry).toMatchObject({ actor: 'ed', action: 'tenant.create' });
  });

  it.each([
    ['no CSRF token', {}],
    ['a wrong CSRF token', { 'x-csrf-token': 'not-the-token' }],
    ['another session’s CSRF token', 'other'],
  ])('403 csrf_failed for a cookie write with %s', async (_label, extra) => {
    const { cookie } = await env.signIn('admin');
    const other = await env.signIn('editor');
    const headers = extra === 'other' ? { 'x-csrf-token': other.csrf } : (extra as Record<string, string>);
    const r = await env.call({ method: 'POST', path: '/admin/tenants', body: newTenant('b'), headers: { cookie, ...headers } });
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe('csrf_failed');
    expect((await env.call({ path: '/admin/tenants', headers: { cookie } })).json.data).toEqual([]);
  });

  it('403 csrf_failed for a write from another origin, even with the right token (and for Basic auth too)', async () => {
    const { cookie, csrf } = await env.signIn('admin');
    for (const origin of ['https://evil.example', 'http://gw.example.com', 'null']) {
      const r = await env.call({ method: 'POST', path: '/admin/tenants', body: newTenant('c'), headers: { cookie, 'x-csrf-token': csrf, origin } });
      expect(r.status).toBe(403);
      expect(r.json.error.code).toBe('csrf_failed');
    }
    const basic = `Basic ${Buffer.from(PASSWORDS.admin.join(':')).toString('base64')}`;
    const r = await env.call({ method: 'DELETE', path: '/admin/tenants/x', headers: { authorization: basic, origin: 'https://evil.example' } });
    expect(r.json.error.code).toBe('csrf_failed');
    // Reads from elsewhere are not writes: the browser keeps their answer from the other page anyway.
    expect((await env.call({ path: '/admin/tenants', headers: { cookie, origin: 'https://evil.example' } })).status).toBe(200);
  });

  it('a viewer’s session reads but gets 403 on writes', async () => {
    const { cookie, csrf } = await env.signIn('viewer');
    expect((await env.call({ path: '/admin/tenants', headers: { cookie } })).status).toBe(200);
    const r = await env.call({ method: 'POST', path: '/admin/tenants', body: newTenant('d'), headers: { cookie, 'x-csrf-token': csrf } });
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe('insufficient_permissions');
    expect((await env.call({ path: '/admin/users', headers: { cookie } })).status).toBe(403);
  });

  it('expires after its TTL on the clock', async () => {
    const { cookie } = await env.signIn('viewer');
    env.clock.now += 3600_000 - 1;
    expect((await env.call({ path: '/admin/tenants', headers: { cookie } })).status).toBe(200);
    env.clock.now += 1;
    const r = await env.call({ path: '/admin/tenants', headers: { cookie } });
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe('invalid_session');
    expect(r.headers['www-authenticate']).toBeUndefined();
  });

  it('ends when its user is deleted (at once here) or their password changes; takes a changed role', async () => {
    const viewer = await env.signIn('viewer');
    const editor = await env.signIn('editor');
    const admin = await env.signIn('admin');
    const write = { cookie: admin.cookie, 'x-csrf-token': admin.csrf };
    expect((await env.call({ method: 'DELETE', path: '/admin/users/vi', headers: write })).status).toBe(204);
    expect((await env.call({ path: '/admin/tenants', headers: { cookie: viewer.cookie } })).status).toBe(401);

    expect((await env.call({ method: 'PUT', path: '/admin/users/ed', body: { role: 'viewer' }, headers: write })).status).toBe(200);
    const asViewer = await env.call({ path: '/admin/session', headers: { cookie: editor.cookie } });
    expect(asViewer.json).toMatchObject({ username: 'ed', role: 'viewer' });
    const refused = await env.call({
      method: 'POST',
      path: '/admin/tenants',
      body: newTenant('e'),
      headers: { cookie: editor.cookie, 'x-csrf-token': editor.csrf },
    });
    expect(refused.status).toBe(403);

    expect((await env.call({ method: 'PUT', path: '/admin/users/ed', body: { password: 'a-new-password-2' }, headers: write })).status).toBe(200);
    expect((await env.call({ path: '/admin/session', headers: { cookie: editor.cookie } })).status).toBe(401);
  });

  it('a change made by another instance is seen within 5 s', async () => {
    const viewer = await env.signIn('viewer');
    expect((await env.call({ path: '/admin/tenants', headers: { cookie: viewer.cookie } })).status).toBe(200);
    await env.users.delete('vi'); // behind this instance's back
    env.clock.now += 5000;
    expect((await env.call({ path: '/admin/tenants', headers: { cookie: viewer.cookie } })).status).toBe(401);
  });

  it('refuses a tampered or foreign token', async () => {
    const { cookie } = await env.signIn('viewer');
    const [name, token] = cookie.split('=') as [string, string];
    const [payload, sig] = token.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, r: 'admin' })).toString('base64url');
    for (const bad of [`${forged}.${sig}`, `${payload}.${sig.slice(1)}`, 'garbage', `${payload}`]) {
      const r = await env.call({ path: '/admin/session', headers: { cookie: `${name}=${bad}` } });
      expect(r.status).toBe(401);
    }
    const elsewhere = await setup({ sessions: { key: deriveSessionKey('a different key, also long enough'), ttlSeconds: 3600 } });
    expect((await elsewhere.call({ path: '/admin/session', headers: { cookie } })).status).toBe(401);
  });

  it('DELETE /admin/session clears the cookie; it needs the CSRF token while the session is live', async () => {
    const { cookie, csrf } = await env.signIn('viewer');
    const refused = await env.call({ method: 'DELETE', path: '/admin/session', headers: { cookie } });
    expect(refused.status).toBe(403);
    const out = await env.call({ method: 'DELETE', path: '/admin/session', headers: { cookie, 'x-csrf-token': csrf } });
    expect(out.status).toBe(204);
    expect(out.headers['set-cookie']).toBe('gw_admin_session=; HttpOnly; SameSite=Strict; Path=/admin; Max-Age=0; Secure');
    // Without a live session there is nothing to protect: it just clears.
    expect((await env.call({ method: 'DELETE', path: '/admin/session', headers: { cookie: 'gw_admin_session=stale' } })).status).toBe(204);
  });

  it('Basic auth keeps working beside sessions; a script without credentials gets a 401 without a challenge', async () => {
    const basic = `Basic ${Buffer.from(PASSWORDS.editor.join(':')).toString('base64')}`;
    expect((await env.call({ method: 'POST', path: '/admin/tenants', body: newTenant('f'), headers: { authorization: basic } })).status).toBe(201);
    const page = await env.call({ path: '/admin/tenants' });
    expect(page.headers['www-authenticate']).toMatch(/^Basic /);
    const scripts: Array<Record<string, string>> = [{ 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty' }, { 'x-requested-with': 'XMLHttpRequest' }];
    for (const headers of scripts) {
      const script = await env.call({ path: '/admin/tenants', headers });
      expect(script.status).toBe(401);
      expect(script.headers['www-authenticate']).toBeUndefined();
    }
  });
});

describe('sessions with admin auth off (local default)', () => {
  it('sign-in still checks the admin users; a cookie write still needs its CSRF token and the same origin', async () => {
    const env = await setup({ authEnabled: false, scheme: 'http' });
    const wrong = await env.call({
      method: 'POST',
      path: '/admin/session',
      body: { username: 'admin', password: 'nope' },
      headers: { host: 'localhost:8080' },
    });
    expect(wrong.status).toBe(401);
    const { cookie, csrf } = await env.signIn('viewer', { host: 'localhost:8080' });
    const headers = { host: 'localhost:8080', cookie };
    // The session's own role applies, not the anonymous admin's.
    expect((await env.call({ method: 'POST', path: '/admin/tenants', body: newTenant('g'), headers: { ...headers, 'x-csrf-token': csrf } })).status).toBe(403);
    const admin = await env.signIn('admin', { host: 'localhost:8080' });
    const noToken = await env.call({ method: 'POST', path: '/admin/tenants', body: newTenant('g'), headers: { host: 'localhost:8080', cookie: admin.cookie } });
    expect(noToken.json.error.code).toBe('csrf_failed');
    const crossOrigin = await env.call({
      method: 'POST',
      path: '/admin/tenants',
      body: newTenant('g'),
      headers: { host: 'localhost:8080', origin: 'http://localhost:3000', cookie: admin.cookie, 'x-csrf-token': admin.csrf },
    });
    expect(crossOrigin.json.error.code).toBe('csrf_failed');
    const ok = await env.call({
      method: 'POST',
      path: '/admin/tenants',
      body: newTenant('g'),
      headers: { host: 'localhost:8080', origin: 'http://localhost:8080', cookie: admin.cookie, 'x-csrf-token': admin.csrf },
    });
    expect(ok.status).toBe(201);
    // Without a cookie the API stays open on loopback as before.
    expect((await env.call({ path: '/admin/tenants', headers: { host: 'localhost:8080' } })).status).toBe(200);
  });
});

describe('sessions over HTTP on the local server', () => {
  let local: LocalGateway;
  beforeAll(async () => {
    const config = loadConfig({ ADDR: '127.0.0.1:0', ADMIN_AUTH_ENABLED: 'true' }, () => '{}', 'test');
    local = await startLocalGateway(config, silentLogger);
  });
  afterAll(() => local.close());

  it('signs in as the bootstrap admin, writes with the cookie and CSRF token, refuses another origin, signs out', async () => {
    const signIn = await fetch(`${local.url}/admin/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'admin' }),
    });
    expect(signIn.status).toBe(200);
    const setCookie = signIn.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^gw_admin_session=[^;]+; HttpOnly; SameSite=Strict; Path=\/admin; Max-Age=28800$/);
    const { csrf_token: csrf } = (await signIn.json()) as any;
    const cookie = setCookie.split(';')[0] as string;
    const created = await fetch(`${local.url}/admin/tenants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrf, origin: local.url },
      body: JSON.stringify({ name: 'from-console' }),
    });
    expect(created.status).toBe(201);
    const forged = await fetch(`${local.url}/admin/tenants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrf, origin: 'http://evil.example' },
      body: JSON.stringify({ name: 'from-elsewhere' }),
    });
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as any).error.code).toBe('csrf_failed');
    const out = await fetch(`${local.url}/admin/session`, { method: 'DELETE', headers: { cookie, 'x-csrf-token': csrf } });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
  });

  it('refuses the default admin:admin sign-in from beyond loopback, before checking the password', async () => {
    const users = new MemoryAdminUserRepository();
    await ensureBootstrapAdmin(users, { password: 'admin' });
    const api = createAdminApi({
      tenants: new MemoryTenantRepository([]),
      users,
      audit: new MemoryAuditLog(),
      authEnabled: true,
      signInGuard: defaultCredentialRefusal,
      logger: silentLogger,
    });
    const signIn = (remoteAddress: string) =>
      api({
        method: 'POST',
        path: '/admin/session',
        query: new URLSearchParams(),
        headers: { host: 'gw.example.com', 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify({ username: 'admin', password: 'admin' })),
        signal: new CancelSignal(),
        remoteAddress,
      });
    const far = await signIn('192.0.2.5');
    expect(far.status).toBe(403);
    expect(JSON.parse(far.body as string).error.code).toBe('admin_loopback_only');
    expect((await signIn('127.0.0.1')).status).toBe(200);
  });
});
