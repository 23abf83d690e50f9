import { dummyVerify, hashPassword, SCRYPT_PARAMS, verifyPassword } from '../../functions/admin/passwords';

describe('scrypt passwords', () => {
  let encoded: string;
  beforeAll(async () => {
    encoded = await hashPassword('correct horse battery');
  });

  it('encodes scrypt$N$r$p$salt$hash with the documented parameters', () => {
    const parts = encoded.split('$');
    expect(parts.slice(0, 4)).toEqual(['scrypt', '16384', '8', '1']);
    expect(Buffer.from(parts[4] as string, 'base64')).toHaveLength(SCRYPT_PARAMS.saltBytes);
    expect(Buffer.from(parts[5] as string, 'base64')).toHaveLength(SCRYPT_PARAMS.keyBytes);
    expect(encoded).not.toContain('correct horse');
  });

  it('salts every hash', async () => {
    expect(await hashPassword('correct horse battery')).not.toBe(encoded);
  });

  it('verifies the right password only', async () => {
    expect(await verifyPassword('correct horse battery', encoded)).toBe(true);
    expect(await verifyPassword('correct horse batterY', encoded)).toBe(false);
    expect(await verifyPassword('', encoded)).toBe(false);
  });

  it('normalizes Unicode so the same password typed differently still verifies', async () => {
    const composed = await hashPassword('caf\u00e9-password-1');
    expect(await verifyPassword('cafe\u0301-password-1', composed)).toBe(true);
  });

  const tamper = (s: string, i: number, value: string): string => {
    const parts = s.split('$');
    parts[i] = value;
    return parts.join('$');
  };

  it.each([
    ['the hash', (s: string) => tamper(s, 5, Buffer.alloc(32, 1).toString('base64'))],
    ['the salt', (s: string) => tamper(s, 4, Buffer.alloc(16, 2).toString('base64'))],
    ['N', (s: string) => tamper(s, 1, '8192')],
    ['r', (s: string) => tamper(s, 2, '4')],
    ['the algorithm', (s: string) => tamper(s, 0, 'bcrypt')],
    ['N to a non-power of two', (s: string) => tamper(s, 1, '16383')],
    ['N to something huge', (s: string) => tamper(s, 1, String(2 ** 30))],
    ['p to zero', (s: string) => tamper(s, 3, '0')],
    ['a truncated hash', (s: string) => tamper(s, 5, 'AAAA')],
    ['non-base64 salt', (s: string) => tamper(s, 4, '!!!!')],
    ['a missing field', (s: string) => s.split('$').slice(0, 5).join('$')],
    ['an empty string', () => ''],
  ])('a tampered encoding (%s) never verifies and never throws', async (_label, mutate) => {
    await expect(verifyPassword('correct horse battery', mutate(encoded))).resolves.toBe(false);
  });

  it('refuses absurdly long passwords without hashing them', async () => {
    await expect(verifyPassword('x'.repeat(5000), encoded)).resolves.toBe(false);
  });

  it('dummyVerify costs about as much as a real verification', async () => {
    await dummyVerify('warm-up');
    // Fastest of three runs each, so a busy CI machine does not make one side look slow.
    const fastest = async (fn: () => Promise<unknown>): Promise<number> => {
      let best = Infinity;
      for (let i = 0; i < 3; i++) {
        const t = process.hrtime.bigint();
        await fn();
        best = Math.min(best, Number(process.hrtime.bigint() - t));
      }
      return best;
    };
    const real = await fastest(() => verifyPassword('wrong password!!', encoded));
    const dummy = await fastest(() => dummyVerify('wrong password!!'));
    // Same parameters, same work: within a generous factor, not an order of magnitude apart.
    expect(dummy / real).toBeGreaterThan(0.3);
    expect(dummy / real).toBeLessThan(3);
  });
});
