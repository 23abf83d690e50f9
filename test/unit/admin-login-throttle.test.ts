import { LoginThrottle } from '../../functions/admin/login-throttle';
import { clientAddress } from '../../functions/admin/source-address';

describe('LoginThrottle', () => {
  const T0 = 1_000_000;
  const MIN = 60_000;
  const HOME = '203.0.113.9';
  const AWAY = '198.51.100.1';

  it('blocks a (username, address) pair after 5 failures within 5 minutes, until the first leaves the window', () => {
    const t = new LoginThrottle();
    for (let i = 0; i < 4; i++) t.recordFailure('alice', HOME, T0 + i * MIN);
    expect(t.check('alice', HOME, T0 + 4 * MIN)).toEqual({ blocked: false });
    t.recordFailure('alice', HOME, T0 + 4 * MIN);
    expect(t.check('alice', HOME, T0 + 4 * MIN)).toEqual({ blocked: true, retryAfterSeconds: 60 });
    expect(t.check('alice', HOME, T0 + 5 * MIN - 1)).toEqual({ blocked: true, retryAfterSeconds: 1 });
    expect(t.check('alice', HOME, T0 + 5 * MIN)).toEqual({ blocked: false });
    // Other users at that address are unaffected.
    expect(t.check('bob', HOME, T0 + 4 * MIN)).toEqual({ blocked: false });
  });

  it('failures for a username from one address never lock that username out elsewhere', () => {
    const t = new LoginThrottle();
    for (let i = 0; i < 50; i++) t.recordFailure('alice', HOME, T0);
    expect(t.check('alice', HOME, T0).blocked).toBe(true);
    expect(t.check('alice', AWAY, T0)).toEqual({ blocked: false });
  });

  it('failures spread wider than the window never block', () => {
    const t = new LoginThrottle();
    for (let i = 0; i < 20; i++) {
      t.recordFailure('alice', HOME, T0 + i * 2 * MIN);
      expect(t.check('alice', HOME, T0 + i * 2 * MIN).blocked).toBe(false);
    }
  });

  it('blocks an address guessing across usernames after 20 failures', () => {
    const t = new LoginThrottle();
    for (let i = 0; i < 19; i++) t.recordFailure(`user${i}`, HOME, T0);
    expect(t.check('someone-else', HOME, T0 + 1000)).toEqual({ blocked: false });
    t.recordFailure('user19', HOME, T0);
    expect(t.check('someone-else', HOME, T0 + 1000)).toEqual({ blocked: true, retryAfterSeconds: 299 });
    expect(t.check('someone-else', AWAY, T0 + 1000)).toEqual({ blocked: false });
  });

  it('an unknown address is one bucket, still throttled', () => {
    const t = new LoginThrottle();
    for (let i = 0; i < 20; i++) t.recordFailure(`user${i}`, '', T0);
    expect(t.check('anyone', '', T0).blocked).toBe(true);
  });

  it('a success resets its pair but not the address', () => {
    const t = new LoginThrottle({ maxFailuresPerAddress: 6 });
    for (let i = 0; i < 4; i++) t.recordFailure('alice', HOME, T0);
    t.recordSuccess('alice', HOME);
    t.recordFailure('alice', HOME, T0);
    expect(t.check('alice', HOME, T0).blocked).toBe(false);
    t.recordFailure('mallory', HOME, T0);
    expect(t.check('anyone', HOME, T0).blocked).toBe(true);
  });

  it('honours custom limits', () => {
    const t = new LoginThrottle({ maxFailures: 2, windowMs: 10_000 });
    t.recordFailure('a', HOME, T0);
    t.recordFailure('a', HOME, T0 + 1000);
    expect(t.check('a', HOME, T0 + 1000)).toEqual({ blocked: true, retryAfterSeconds: 9 });
    expect(t.check('a', HOME, T0 + 10_000).blocked).toBe(false);
  });

  it('keeps memory bounded under a flood of random usernames', () => {
    const t = new LoginThrottle({ maxEntries: 100, maxFailuresPerAddress: 10_000 });
    for (let i = 0; i < 1000; i++) t.recordFailure(`random-${i}`, HOME, T0);
    // The most recent offenders are still tracked.
    for (let i = 0; i < 4; i++) t.recordFailure('random-999', HOME, T0);
    expect(t.check('random-999', HOME, T0).blocked).toBe(true);
    expect((t as unknown as { failures: Map<string, number[]> }).failures.size).toBeLessThanOrEqual(100);
  });
});

describe('clientAddress (TRUST_PROXY)', () => {
  it('ignores X-Forwarded-For unless proxies are trusted', () => {
    expect(clientAddress('10.0.0.1', '6.6.6.6', 0)).toBe('10.0.0.1');
  });

  it('takes the entry the outermost trusted proxy appended, not one the client wrote', () => {
    // Client forged "6.6.6.6"; our one proxy appended the real client 198.51.100.7.
    expect(clientAddress('10.0.0.1', '6.6.6.6, 198.51.100.7', 1)).toBe('198.51.100.7');
    // Two proxies: the outer one appended the client, the inner one the outer's address.
    expect(clientAddress('10.0.0.2', '6.6.6.6, 198.51.100.7, 10.0.0.1', 2)).toBe('198.51.100.7');
  });

  it('falls back to the peer without a header, and to the furthest entry with a short chain', () => {
    expect(clientAddress('10.0.0.1', undefined, 1)).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.1', '198.51.100.7', 3)).toBe('198.51.100.7');
  });
});
