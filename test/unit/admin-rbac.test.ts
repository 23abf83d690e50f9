import type { AdminRole } from '../../functions/core/ports';
import { GatewayError } from '../../functions/core/errors';
import { hasPermission, PERMISSIONS, type Permission } from '../../functions/admin/rbac';
import { matchRoute } from '../../functions/admin/routes';
import { parseBasicAuth } from '../../functions/admin/basic-auth';
import { parseIsoParam } from '../../functions/admin/usage-route';

// The seed's table, verbatim: role → [tenant:read, tenant:write, tenant:delete, usage:read, admin:manage].
const SEED_TABLE: Record<AdminRole, boolean[]> = {
  admin: [true, true, true, true, true],
  editor: [true, true, false, true, false],
  viewer: [true, false, false, true, false],
};

describe('RBAC', () => {
  it('lists the seed permissions in the seed order', () => {
    expect(PERMISSIONS).toEqual(['tenant:read', 'tenant:write', 'tenant:delete', 'usage:read', 'admin:manage']);
  });

  const cells = (Object.keys(SEED_TABLE) as AdminRole[]).flatMap((role) =>
    PERMISSIONS.map((perm, i): [AdminRole, Permission, boolean] => [role, perm, SEED_TABLE[role][i] as boolean]),
  );
  it.each(cells)('%s / %s → %p', (role, perm, allowed) => {
    expect(hasPermission(role, perm)).toBe(allowed);
  });
});

describe('matchRoute', () => {
  it.each([
    ['GET', '/admin/tenants', 'tenants.list', 'tenant:read', {}],
    ['POST', '/admin/tenants', 'tenants.create', 'tenant:write', {}],
    ['GET', '/admin/tenants/', 'tenants.list', 'tenant:read', {}],
    ['GET', '/admin/tenants/abc', 'tenants.get', 'tenant:read', { id: 'abc' }],
    ['PUT', '/admin/tenants/abc', 'tenants.update', 'tenant:write', { id: 'abc' }],
    ['DELETE', '/admin/tenants/abc', 'tenants.delete', 'tenant:delete', { id: 'abc' }],
    ['POST', '/admin/tenants/abc/rotate-key', 'tenants.rotateKey', 'tenant:write', { id: 'abc' }],
    ['GET', '/admin/tenants/abc/usage', 'tenants.usage', 'usage:read', { id: 'abc' }],
    ['GET', '/admin/users', 'users.list', 'admin:manage', {}],
    ['POST', '/admin/users', 'users.create', 'admin:manage', {}],
    ['GET', '/admin/users/a%40b.c', 'users.get', 'admin:manage', { username: 'a@b.c' }],
    ['PUT', '/admin/users/bob', 'users.update', 'admin:manage', { username: 'bob' }],
    ['DELETE', '/admin/users/bob', 'users.delete', 'admin:manage', { username: 'bob' }],
    ['GET', '/admin/audit', 'audit.list', 'admin:manage', {}],
  ])('%s %s → %s (%s)', (method, path, name, permission, params) => {
    expect(matchRoute(method, path)).toEqual({ name, permission, params });
  });

  const statusOf = (method: string, path: string): [number, Record<string, string>] => {
    try {
      matchRoute(method, path);
    } catch (err) {
      if (err instanceof GatewayError) return [err.status, err.headers];
    }
    return [200, {}];
  };

  it.each([
    ['GET', '/admin'],
    ['GET', '/admin/'],
    ['GET', '/admin/nope'],
    ['GET', '/v1/models'],
    ['GET', '/administrator/tenants'],
    ['GET', '/admin/tenants/a/b'],
    ['GET', '/admin/tenants//usage'],
    ['GET', '/admin/tenants/a%2Fb'],
    ['GET', '/admin/tenants/%E0%A4%A'],
  ])('%s %s → 404', (method, path) => {
    expect(statusOf(method, path)[0]).toBe(404);
  });

  it.each([
    ['DELETE', '/admin/tenants', 'GET, POST'],
    ['PATCH', '/admin/tenants/abc', 'GET, PUT, DELETE'],
    ['GET', '/admin/tenants/abc/rotate-key', 'POST'],
    ['POST', '/admin/audit', 'GET'],
  ])('%s %s → 405 with Allow: %s', (method, path, allow) => {
    expect(statusOf(method, path)).toEqual([405, { allow }]);
  });
});

describe('parseBasicAuth', () => {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  it.each([
    [`Basic ${b64('admin:admin')}`, { username: 'admin', password: 'admin' }],
    [`basic ${b64('admin:pa:ss')}`, { username: 'admin', password: 'pa:ss' }],
    [`Basic ${b64('jörg:pässword')}`, { username: 'jörg', password: 'pässword' }],
    [`Basic ${b64('admin:')}`, { username: 'admin', password: '' }],
  ])('%s', (header, creds) => expect(parseBasicAuth(header)).toEqual(creds));

  it.each([undefined, '', 'Bearer abc', 'Basic', `Basic ${b64('nocolon')}`, `Basic ${b64(':pw')}`, 'Basic !!!', `Basic ${'A'.repeat(5000)}`])(
    'rejects %p',
    (header) => expect(parseBasicAuth(header)).toBeNull(),
  );
});

describe('parseIsoParam', () => {
  it.each([
    ['2026-01-31', 'from', '2026-01-31T00:00:00.000Z'],
    ['2026-01-31', 'to', '2026-01-31T23:59:59.999Z'],
    ['2026-01-31T12:30:00Z', 'to', '2026-01-31T12:30:00.000Z'],
    ['2026-01-31T12:30:00.5+02:00', 'from', '2026-01-31T10:30:00.500Z'],
    ['2024-02-29', 'from', '2024-02-29T00:00:00.000Z'],
  ] as const)('%s as %s → %s', (value, param, expected) => {
    expect(new Date(parseIsoParam(value, param)).toISOString()).toBe(expected);
  });

  it.each(['2026-02-30', '2025-02-29', '2026-13-01', '2026-1-5', 'yesterday', '2026-01-31T12:00', '1700000000', '2026-01-31T25:00:00Z'])(
    'rejects %p naming the param',
    (value) => {
      try {
        parseIsoParam(value, 'from');
        throw new Error('accepted');
      } catch (err) {
        expect(err).toBeInstanceOf(GatewayError);
        expect((err as GatewayError).param).toBe('from');
      }
    },
  );
});
