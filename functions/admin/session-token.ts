// Console session tokens: stateless, `<payload>.<signature>` in base64url, the payload JSON
// (username, role at sign-in, issued and expiry times, a fingerprint of the password hash) and
// the signature HMAC-SHA256 over it. Any instance holding the same key verifies a token without a
// store; the password fingerprint ends every session of a user whose password changes. The CSRF
// token is derived from the session token with the same key, so it needs no storage either.
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AdminRole } from '../core/ports';
import { isAdminRole } from './rbac';

export interface SessionClaims {
  username: string;
  /** The role when the session began; requests use the user's current role. */
  role: AdminRole;
  issuedAtMs: number;
  expiresAtMs: number;
  /** Ties the session to the password it was opened with. */
  passwordFingerprint: string;
}

/** The signing key: 32 bytes derived from configured or shared key material, never used raw. */
export type SessionKey = Buffer & { readonly __sessionKey: true };

export function deriveSessionKey(material: string | Buffer): SessionKey {
  return Buffer.from(hkdfSync('sha256', material, 'ai-gateway', 'admin console session v1', 32)) as SessionKey;
}

/** A key for this process only: sessions then end when it stops. */
export const randomSessionKey = (): SessionKey => deriveSessionKey(randomBytes(32));

const mac = (key: SessionKey, purpose: string, text: string): Buffer => createHmac('sha256', key).update(purpose).update('\0').update(text).digest();

/** Short, one-way: enough to notice a changed hash, useless for guessing the password. */
export const passwordFingerprint = (key: SessionKey, passwordHash: string): string => mac(key, 'password', passwordHash).subarray(0, 12).toString('base64url');

export function signSession(key: SessionKey, claims: SessionClaims): string {
  const payload = Buffer.from(
    JSON.stringify({ u: claims.username, r: claims.role, iat: claims.issuedAtMs, exp: claims.expiresAtMs, pw: claims.passwordFingerprint }),
  ).toString('base64url');
  return `${payload}.${mac(key, 'session', payload).toString('base64url')}`;
}

/** The claims of a well-signed, unexpired token; null for anything else. */
export function verifySession(key: SessionKey, token: string, nowMs: number): SessionClaims | null {
  if (token.length > 1024) return null;
  const dot = token.indexOf('.');
  if (dot <= 0) return null;
  const payload = token.slice(0, dot);
  if (!sameBytes(Buffer.from(token.slice(dot + 1), 'base64url'), mac(key, 'session', payload))) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const claims = toClaims(parsed);
  return claims && claims.expiresAtMs > nowMs ? claims : null;
}

function toClaims(value: unknown): SessionClaims | null {
  if (typeof value !== 'object' || value === null) return null;
  const { u, r, iat, exp, pw } = value as Record<string, unknown>;
  if (typeof u !== 'string' || !isAdminRole(r) || typeof iat !== 'number' || typeof exp !== 'number' || typeof pw !== 'string') return null;
  return { username: u, role: r, issuedAtMs: iat, expiresAtMs: exp, passwordFingerprint: pw };
}

/** The CSRF token that goes with a session token. */
export const csrfTokenFor = (key: SessionKey, sessionToken: string): string => mac(key, 'csrf', sessionToken).toString('base64url');

/** Constant-time check of a presented CSRF token against the session's. */
export function csrfTokenMatches(key: SessionKey, sessionToken: string, presented: string | undefined): boolean {
  if (presented === undefined || presented.length > 256) return false;
  return sameBytes(Buffer.from(presented, 'utf8'), Buffer.from(csrfTokenFor(key, sessionToken), 'utf8'));
}

/** Constant time for equal lengths; a length mismatch says nothing about the content. */
function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
