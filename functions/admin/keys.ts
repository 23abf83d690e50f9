// Tenant API keys: `gw-` + 256 random bits. Only the SHA-256 hash is stored; the plaintext is
// returned once (create, rotate) and authentication is a lookup by hash, so no plaintext
// comparison ever happens.
import { randomBytes } from 'node:crypto';
import type { ApiKeyRecord } from '../core/ports';
import { hashApiKey } from '../core/tenants';

const KEY_PREFIX_LENGTH = 10;

export interface NewApiKey {
  /** The plaintext: hand it to the caller once, never store or log it. */
  key: string;
  record: ApiKeyRecord;
}

export function generateApiKey(createdAt: string): NewApiKey {
  const key = `gw-${randomBytes(32).toString('base64url')}`;
  return { key, record: { hash: hashApiKey(key), prefix: key.slice(0, KEY_PREFIX_LENGTH), created_at: createdAt } };
}

/** What a response may show of a key: never its hash. */
export interface ApiKeyView {
  prefix: string;
  created_at: string;
  expires_at: string | null;
}

export function keyView(record: ApiKeyRecord): ApiKeyView {
  return { prefix: record.prefix, created_at: record.created_at, expires_at: record.expires_at ?? null };
}

/** Keys still usable at `nowMs` (no expiry, or expiry in the future). */
export function liveKeys(keys: readonly ApiKeyRecord[], nowMs: number): ApiKeyRecord[] {
  return keys.filter((k) => k.expires_at === undefined || Date.parse(k.expires_at) > nowMs);
}
