// Admin passwords: scrypt (N=16384, r=8, p=1, 16-byte salt, 32-byte key), stored as
// `scrypt$N$r$p$salt$hash` (base64). Verification is constant-time and never throws: a
// malformed or tampered encoding simply does not verify.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export const SCRYPT_PARAMS = { N: 16384, r: 8, p: 1, saltBytes: 16, keyBytes: 32 } as const;

// Bounds on parameters read back from storage, so a corrupted record cannot make one login
// allocate gigabytes or spin for minutes.
const MAX_N = 1 << 20;
const MAX_R = 32;
const MAX_P = 16;
/** scrypt's input is a password, not a document; longer inputs are refused before hashing. */
export const MAX_PASSWORD_LENGTH = 1024;

function deriveKey(password: string, salt: Buffer, keyLen: number, opts: { N: number; r: number; p: number }): Promise<Buffer> {
  // Node's default maxmem (32 MiB) is too small for N=2^20; allow what the parameters need.
  const options: ScryptOptions = { N: opts.N, r: opts.r, p: opts.p, maxmem: 256 * opts.N * opts.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keyLen, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(password: string): Promise<string> {
  const { N, r, p } = SCRYPT_PARAMS;
  const salt = randomBytes(SCRYPT_PARAMS.saltBytes);
  const key = await deriveKey(password, salt, SCRYPT_PARAMS.keyBytes, { N, r, p });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

interface Decoded {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

function decode(encoded: string): Decoded | null {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [, nText, rText, pText, saltText, hashText] = parts as [string, string, string, string, string, string];
  const N = Number(nText);
  const r = Number(rText);
  const p = Number(pText);
  if (!Number.isSafeInteger(N) || N < 2 || N > MAX_N || (N & (N - 1)) !== 0) return null;
  if (!Number.isSafeInteger(r) || r < 1 || r > MAX_R || !Number.isSafeInteger(p) || p < 1 || p > MAX_P) return null;
  if (!B64.test(saltText) || !B64.test(hashText)) return null;
  const salt = Buffer.from(saltText, 'base64');
  const hash = Buffer.from(hashText, 'base64');
  if (salt.length < 8 || hash.length < 16 || hash.length > 64) return null;
  return { N, r, p, salt, hash };
}

/** True only if `password` matches `encoded`; false for any malformed or tampered encoding. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const decoded = decode(encoded);
  if (!decoded || password.length > MAX_PASSWORD_LENGTH) {
    // Still spend the usual time, so a broken record or an oversized input is not a timing oracle.
    await dummyVerify(password.slice(0, MAX_PASSWORD_LENGTH));
    return false;
  }
  let derived: Buffer;
  try {
    derived = await deriveKey(password, decoded.salt, decoded.hash.length, decoded);
  } catch {
    return false;
  }
  return timingSafeEqual(derived, decoded.hash);
}

let dummyHash: Promise<string> | undefined;

/**
 * Runs one verification with the default parameters against a throwaway hash; used when the
 * user does not exist, so the response time does not reveal which usernames are real.
 */
export async function dummyVerify(password: string): Promise<void> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  const decoded = decode(await dummyHash) as Decoded;
  const derived = await deriveKey(password, decoded.salt, decoded.hash.length, decoded);
  timingSafeEqual(derived, decoded.hash);
}
