// The admin API on the local server answers beyond loopback only when it is authenticated, and
// the seed's default credential admin:admin only ever works from loopback: `npm start` on a
// laptop must not let anyone on the LAN create tenants or log in with a documented password.
// Judged from the request head alone (the socket's peer address, never a header), so a refused
// request's body is never read.
import { jsonResponse, type ApiRequest, type ApiResponse } from '../core/api-types';
import { GatewayError } from '../core/errors';
import { parseBasicAuth } from '../admin/basic-auth';

/** True for an IPv4 127/8 address, ::1, or an IPv4-mapped loopback address. */
function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}

/** True when a listen host accepts connections from loopback only. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || isLoopbackAddress(host);
}

/** The refusal for an /admin/* request from beyond loopback that must not be served; undefined: serve it. */
export function adminRefusal(req: Pick<ApiRequest, 'headers' | 'remoteAddress'>, authEnabled: boolean): ApiResponse | undefined {
  if (isLoopbackAddress(req.remoteAddress)) return undefined;
  if (!authEnabled) {
    const refused = forbidden(
      'The admin API is unauthenticated (ADMIN_AUTH_ENABLED is not true), ' +
        'so it answers only on loopback; set ADMIN_AUTH_ENABLED=true to use it from another host.',
    );
    return jsonResponse(refused.status, refused.toBody());
  }
  const creds = parseBasicAuth(req.headers.authorization);
  const refused = creds ? defaultCredentialRefusal(req, creds.username, creds.password) : undefined;
  return refused ? jsonResponse(refused.status, refused.toBody()) : undefined;
}

/** The refusal of the seed's admin:admin from beyond loopback (Basic auth or console sign-in); undefined: go on. */
export function defaultCredentialRefusal(req: Pick<ApiRequest, 'remoteAddress'>, username: string, password: string): GatewayError | undefined {
  if (isLoopbackAddress(req.remoteAddress) || username !== 'admin' || password !== 'admin') return undefined;
  return forbidden(
    'The default admin credential admin:admin works only from loopback (even with ADMIN_AUTH_ENABLED=true); change the password or set ADMIN_PASSWORD.',
  );
}

function forbidden(message: string): GatewayError {
  return new GatewayError(403, message, { type: 'permission_error', code: 'admin_loopback_only' });
}
