// Admin authentication: HTTP Basic against scrypt-hashed users, with failed-login throttling.
import type { AdminUser, AdminUserRepository } from '../core/ports';
import { GatewayError } from '../core/errors';
import type { Logger } from '../core/logger';
import type { LoginThrottlePort } from './shared-login-throttle';
import { dummyVerify, MAX_PASSWORD_LENGTH, verifyPassword } from './passwords';
import type { Principal } from './services';
import { USERNAME_PATTERN } from './user-input';

const ADMIN_REALM = 'ai-gateway-admin';
const MAX_HEADER = 4096;

export interface BasicCredentials {
  username: string;
  password: string;
}

/** `Basic base64(user:pass)` → credentials; null when absent or malformed. */
export function parseBasicAuth(header: string | undefined): BasicCredentials | null {
  if (header === undefined || header.length > MAX_HEADER) return null;
  const m = /^Basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i.exec(header);
  if (!m) return null;
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export const challenge = (message: string): GatewayError =>
  new GatewayError(401, message, {
    type: 'authentication_error',
    code: 'invalid_admin_credentials',
    headers: { 'www-authenticate': `Basic realm="${ADMIN_REALM}", charset="UTF-8"` },
  });

export interface Authenticator {
  users: AdminUserRepository;
  throttle: LoginThrottlePort;
  now: () => number;
  logger: Logger;
}

/** Resolves the caller or throws 401 (missing/bad credentials) or 429 (too many failures). */
/** `sourceIp`: the client's address as resolved by the caller ('' when unknown). */
export async function authenticate(a: Authenticator, header: string | undefined, sourceIp: string): Promise<Principal> {
  const creds = parseBasicAuth(header);
  if (!creds) throw challenge('Admin credentials are required (HTTP Basic authentication).');
  const user = await verifyCredentials(a, creds, sourceIp, () => challenge('Invalid admin credentials.'));
  return { username: user.username, role: user.role };
}

/**
 * Checks a username and password under the failed-login throttle: the user, or throws 429 (too
 * many failures) or `rejected()` (bad credentials). Basic auth and console sign-in share it, so
 * both count against the same limits and log alike.
 */
export async function verifyCredentials(a: Authenticator, creds: BasicCredentials, sourceIp: string, rejected: () => GatewayError): Promise<AdminUser> {
  const decision = await a.throttle.check(creds.username, sourceIp, a.now());
  if (decision.blocked) {
    // Refused before hashing: a locked-out guesser does not even cost us an scrypt run.
    a.logger.warn('admin login throttled', {
      username: loggableUsername(creds.username),
      source_address: sourceIp || 'unknown',
      retry_after_s: decision.retryAfterSeconds,
    });
    throw new GatewayError(429, `Too many failed admin logins; retry in ${decision.retryAfterSeconds} s.`, {
      type: 'rate_limit_error',
      code: 'too_many_failed_logins',
      headers: { 'retry-after': String(decision.retryAfterSeconds) },
    });
  }
  // A name no user can have is not looked up (a 4 KB "username" would also exceed DynamoDB's key size).
  const user = USERNAME_PATTERN.test(creds.username) ? await a.users.get(creds.username) : null;
  let ok = false;
  if (user) ok = await verifyPassword(creds.password, user.password_hash);
  else await dummyVerify(creds.password.slice(0, MAX_PASSWORD_LENGTH)); // same cost as a real check
  if (!user || !ok) {
    await a.throttle.recordFailure(creds.username, sourceIp, a.now());
    a.logger.warn('admin login failed', { username: loggableUsername(creds.username), user_exists: user !== null, source_address: sourceIp || 'unknown' });
    throw rejected();
  }
  await a.throttle.recordSuccess(creds.username, sourceIp);
  return user;
}

/**
 * Operators need to see who is being guessed (never the password); a "username" no account could
 * have is not echoed, as it is often a password typed one field early.
 */
function loggableUsername(username: string): string {
  return USERNAME_PATTERN.test(username) ? username : '(not a valid username)';
}
