import { GatewayError } from '../../functions/core/errors';
import { thrownBy } from './fixture-files';
import { parseTenantCreate } from '../../functions/admin/tenant-input';
import { parseUserCreate, parseUserUpdate } from '../../functions/admin/user-input';

function errorOf(fn: () => unknown): GatewayError {
  const err = thrownBy(fn);
  if (err instanceof GatewayError) return err;
  throw err;
}

describe('parseUserCreate / parseUserUpdate', () => {
  it('accepts a user and an update', () => {
    expect(parseUserCreate({ username: 'ops@example.com', password: 'long-enough-pw', role: 'editor' })).toEqual({
      username: 'ops@example.com',
      password: 'long-enough-pw',
      role: 'editor',
    });
    expect(parseUserUpdate({ role: 'viewer' })).toEqual({ role: 'viewer' });
    expect(parseUserUpdate({})).toEqual({});
  });

  it.each<[Record<string, unknown>, string, string]>([
    [{ password: 'long-enough-pw', role: 'viewer' }, 'username', 'invalid_value'],
    [{ username: 'a:b', password: 'long-enough-pw', role: 'viewer' }, 'username', 'invalid_value'],
    [{ username: 'x', role: 'viewer' }, 'password', 'invalid_value'],
    [{ username: 'x', password: 'long-enough-pw', role: 'root' }, 'role', 'invalid_value'],
    [{ username: 'x', password: 'long-enough-pw', role: 'viewer', admin: true }, 'admin', 'unknown_field'],
  ])('refuses %j with param %s (%s)', (body, param, code) => {
    const err = errorOf(() => parseUserCreate(body));
    expect([err.status, err.param, err.code]).toEqual([400, param, code]);
  });

  it('never echoes a refused password', () => {
    const err = errorOf(() => parseUserUpdate({ password: 'hunter2' }));
    expect(err.param).toBe('password');
    expect(err.message).not.toContain('hunter2');
  });

  it('names an unknown field before any bad value, so a misspelt field reads as such', () => {
    expect(errorOf(() => parseUserUpdate({ password: 'short', username: 'renamed' })).param).toBe('username');
    const err = errorOf(() => parseTenantCreate({ name: '', rate_limt_rpm: 5 }));
    expect([err.param, err.code]).toEqual(['rate_limt_rpm', 'unknown_field']);
    expect(err.message).toContain('Allowed fields: id, name, enabled');
  });
});
