// The console session cookie and the request facts its checks need: the cookie's value, whether
// the request's host is loopback (no `Secure` flag there, since a laptop serves plain http), and
// the request's own origin for the cross-origin check on writes.
import type { ApiRequest } from '../core/api-types';

export const SESSION_COOKIE = 'gw_admin_session';
/** The cookie goes to the admin API only: the console's static files never see it. */
const COOKIE_PATH = '/admin';

/** The session cookie's value from the Cookie header, or undefined. */
export function sessionCookie(headers: ApiRequest['headers']): string | undefined {
  const header = headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return value === '' ? undefined : value;
    }
  }
  return undefined;
}

/** `Set-Cookie` that opens a session lasting `maxAgeSeconds`. */
export function sessionSetCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=${COOKIE_PATH}; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}

/** `Set-Cookie` that removes the session cookie. */
export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=${COOKIE_PATH}; Max-Age=0${secure ? '; Secure' : ''}`;
}

/** The Host header without its port, lower case; '' when absent. */
function hostName(host: string | undefined): string {
  if (host === undefined) return '';
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.indexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

/** True when the request was addressed to localhost, 127.0.0.1 or [::1]. */
export function isLoopbackRequestHost(headers: ApiRequest['headers']): boolean {
  const name = hostName(headers.host);
  return name === 'localhost' || name === '127.0.0.1' || name === '[::1]';
}

export interface OriginRule {
  /** The scheme clients reach this API by: https behind API Gateway, http on the local server. */
  scheme: 'http' | 'https';
  /** Proxies trusted (TRUST_PROXY): then their X-Forwarded-Proto names the scheme. */
  trustProxy: number;
}

/** `scheme://host` as the browser that sent the request sees this API; undefined without a Host header. */
export function requestOrigin(headers: ApiRequest['headers'], rule: OriginRule): string | undefined {
  const host = headers.host?.trim().toLowerCase();
  if (!host) return undefined;
  const forwarded = rule.trustProxy > 0 ? headers['x-forwarded-proto']?.split(',')[0]?.trim().toLowerCase() : undefined;
  const scheme = forwarded === 'http' || forwarded === 'https' ? forwarded : rule.scheme;
  return `${scheme}://${host}`;
}

/** False when the request names an Origin other than its own (a cross-site form or script). */
export function sameOriginOrNone(headers: ApiRequest['headers'], rule: OriginRule): boolean {
  const origin = headers.origin?.trim().toLowerCase();
  if (origin === undefined) return true;
  return origin === requestOrigin(headers, rule);
}
