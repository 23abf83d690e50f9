import { LoginThrottle } from '../../functions/admin/login-throttle';

describe('LoginThrottle', () => {
  const T0 = 1_000_000;
  const MIN = 60_000;

  it('blocks a username after 5 failures within 5 minutes, until the first leaves the window', () => {
    const t = new LoginThrottle();
    for (let i = 0; i < 4; i++) t.recordFailure('alice', '', T0 + i * MIN);
    expect(t.check('alice', '', T0 + 4 * MIN)).toEqual({ blocked: false });
    t.recordFailure('alice', '', T0 + 4 * MIN);
    expect(t.check('alice', '', T0 + 4 * MIN)).toEqual({ blocked: true, retryAfterSeconds: 60 });
    expect(t.check('alice', '', T0 + 5 * MIN - 1)).toEqual({ blocked: true, retryAfterSeconds: 1 });
    expect(t.check('alice', '', T0 + 5 * MIN)).toEqual({ blocked: false });
    // Other users are unaffected.
    expect(t.check('bob', '', T0 + 4 * MIN)).toEqual({ blocked: false });
  });

  it('failures spread wider than the window never block', () => {
    const t = new LoginThrottle();
    for (let i = 0; i < 20; i++) {
      t.recordFailure('alice', '', T0 + i * 2 * MIN);
      expect(t.check('alice', '', T0 + i * 2 * MIN).blocked).toBe(false);
    }
  });

  it('blocks a source IP across usernames', () => {
    const t = new LoginThrottle();
    for (let i = 0; i < 5; i++) t.recordFailure(`user${i}`, '203.0.113.9', T0);
    expect(t.check('someone-else', '203.0.113.9', T0 + 1000)).toEqual({ blocked: true, retryAfterSeconds: 299 });
    expect(t.check('someone-else', '198.51.100.1', T0 + 1000)).toEqual({ blocked: false });
    expect(t.check('someone-else', '', T0 + 1000)).toEqual({ blocked: false });
  });

  it('a success resets the username but not the IP', () => {
    const t = new LoginThrottle();
    for (let i = 0; i < 4; i++) t.recordFailure('alice', '203.0.113.9', T0);
    t.recordSuccess('alice');
    t.recordFailure('alice', '198.51.100.1', T0);
    expect(t.check('alice', '198.51.100.1', T0).blocked).toBe(false);
    t.recordFailure('mallory', '203.0.113.9', T0);
    expect(t.check('anyone', '203.0.113.9', T0).blocked).toBe(true);
  });

  it('honours custom limits', () => {
    const t = new LoginThrottle({ maxFailures: 2, windowMs: 10_000 });
    t.recordFailure('a', '', T0);
    t.recordFailure('a', '', T0 + 1000);
    expect(t.check('a', '', T0 + 1000)).toEqual({ blocked: true, retryAfterSeconds: 9 });
    expect(t.check('a', '', T0 + 10_000).blocked).toBe(false);
  });

  it('keeps memory bounded under a flood of random usernames', () => {
    const t = new LoginThrottle({ maxEntries: 100 });
    for (let i = 0; i < 1000; i++) t.recordFailure(`random-${i}`, '', T0);
    // The most recent offenders are still tracked.
    for (let i = 0; i < 4; i++) t.recordFailure('random-999', '', T0);
    expect(t.check('random-999', '', T0).blocked).toBe(true);
    expect((t as unknown as { failures: Map<string, number[]> }).failures.size).toBeLessThanOrEqual(100);
  });
});
