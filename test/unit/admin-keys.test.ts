import { hashApiKey } from '../../functions/core/tenants';
import { generateApiKey, keyView, liveKeys } from '../../functions/admin/keys';

describe('generateApiKey', () => {
  it('is gw- + base64url of 32 random bytes', () => {
    const { key } = generateApiKey('2026-01-01T00:00:00.000Z');
    expect(key).toMatch(/^gw-[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(key.slice(3), 'base64url')).toHaveLength(32);
  });

  it('stores only the SHA-256 hex hash and a 10-character prefix', () => {
    const { key, record } = generateApiKey('2026-01-01T00:00:00.000Z');
    expect(record).toEqual({ hash: hashApiKey(key), prefix: key.slice(0, 10), created_at: '2026-01-01T00:00:00.000Z' });
    expect(record.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(record)).not.toContain(key);
  });

  it('does not repeat and spreads over the alphabet', () => {
    const keys = Array.from({ length: 2000 }, () => generateApiKey('t').key);
    expect(new Set(keys).size).toBe(keys.length);
    // 2000 × 43 characters over a 64-symbol alphabet: every symbol shows up, none dominates.
    const counts = new Map<string, number>();
    for (const k of keys) for (const ch of k.slice(3)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(64);
    const expected = (2000 * 43) / 64;
    for (const n of counts.values()) expect(Math.abs(n - expected) / expected).toBeLessThan(0.25);
  });
});

describe('keyView / liveKeys', () => {
  const live = { hash: 'h1', prefix: 'gw-aaaaaaa', created_at: 'c1' };
  const grace = { hash: 'h2', prefix: 'gw-bbbbbbb', created_at: 'c2', expires_at: '2026-01-01T00:10:00.000Z' };
  const broken = { hash: 'h3', prefix: 'gw-ccccccc', created_at: 'c3', expires_at: 'not a date' };

  it('never shows the hash', () => {
    expect(keyView(live)).toEqual({ prefix: 'gw-aaaaaaa', created_at: 'c1', expires_at: null });
    expect(keyView(grace)).toEqual({ prefix: 'gw-bbbbbbb', created_at: 'c2', expires_at: '2026-01-01T00:10:00.000Z' });
  });

  it('keeps keys without expiry and keys still in their grace period; drops unreadable expiries', () => {
    const before = Date.parse('2026-01-01T00:09:59.999Z');
    const after = Date.parse('2026-01-01T00:10:00.000Z');
    expect(liveKeys([live, grace, broken], before)).toEqual([live, grace]);
    expect(liveKeys([live, grace, broken], after)).toEqual([live]);
  });
});
