// The admin API's address allowlist authorizer: CIDRs of both address versions, exact addresses,
// and the simple response API Gateway expects.
import { allowList, isAllowed, type AuthorizerEvent } from '../../functions/edge/admin-ip-allowlist';

const event = (sourceIp: string): AuthorizerEvent => ({ requestContext: { http: { sourceIp } } });

test('admits addresses inside the listed CIDRs only, IPv4 and IPv6', () => {
  const list = allowList('203.0.113.0/24, 2001:db8::/32,198.51.100.7/32');
  expect(isAllowed(list, '203.0.113.200')).toBe(true);
  expect(isAllowed(list, '203.0.114.1')).toBe(false);
  expect(isAllowed(list, '198.51.100.7')).toBe(true);
  expect(isAllowed(list, '198.51.100.8')).toBe(false);
  expect(isAllowed(list, '2001:db8:1::5')).toBe(true);
  expect(isAllowed(list, '2001:db9::1')).toBe(false);
  expect(isAllowed(list, 'not-an-address')).toBe(false);
  expect(isAllowed(allowList(''), '203.0.113.1')).toBe(false);
  expect(() => allowList('203.0.113.0')).toThrow('ADMIN_ALLOWED_IPS: "203.0.113.0" is not a CIDR');
});

test('the handler answers API Gateway simple responses from ADMIN_ALLOWED_IPS', async () => {
  process.env.ADMIN_ALLOWED_IPS = '203.0.113.0/24';
  try {
    let handler: ((e: AuthorizerEvent) => Promise<{ isAuthorized: boolean }>) | undefined;
    jest.isolateModules(() => {
      ({ handler } = jest.requireActual<typeof import('../../functions/edge/admin-ip-allowlist')>('../../functions/edge/admin-ip-allowlist'));
    });
    await expect(handler?.(event('203.0.113.9'))).resolves.toEqual({ isAuthorized: true });
    await expect(handler?.(event('192.0.2.1'))).resolves.toEqual({ isAuthorized: false });
  } finally {
    delete process.env.ADMIN_ALLOWED_IPS;
  }
});
