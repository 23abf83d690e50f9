// Console sessions: sign-in (POST /admin/session) with the admin users' passwords under the same
// failed-login throttle as Basic auth, the session (GET), sign-out (DELETE), and the caller
// behind a session cookie on every other admin route, with the CSRF token a cookie write needs.
import type { ApiRequest, ApiResponse } from '../core/api-types';
import { GatewayError } from '../core/errors';
import * as v from 'valibot';
import { recordAudit } from './audit';
import { verifyCredentials, type Authenticator } from './basic-auth';
import { parseBody } from './input';
import { MAX_PASSWORD_LENGTH } from './passwords';
import { permissionsOf } from './rbac';
import { json, noContent } from './responses';
import { iso, type AdminServices, type Principal } from './services';
import { clearedSessionCookie, isLoopbackRequestHost, sessionCookie, sessionSetCookie } from './session-cookie';
import { csrfTokenFor, csrfTokenMatches, passwordFingerprint, signSession, verifySession, type SessionKey } from './session-token';
import type { SessionUsers } from './session-users';

export const SESSION_PATH = '/admin/session';
export const CSRF_HEADER = 'x-csrf-token';

export interface SessionSettings {
  key: SessionKey;
  ttlSeconds: number;
}

/** A refusal of a sign-in before its password is checked (the local server's loopback-only default credential). */
export type SignInGuard = (req: ApiRequest, username: string, password: string) => GatewayError | undefined;

export interface SessionDeps extends SessionSettings {
  services: AdminServices;
  signInGuard?: SignInGuard;
  authenticator: Authenticator;
  users: SessionUsers;
}

/** A verified session: who, and the token its CSRF token derives from. */
interface OpenSession {
  principal: Principal;
  token: string;
  expiresAtMs: number;
}

export const csrfFailed = (message: string): GatewayError => new GatewayError(403, message, { type: 'permission_error', code: 'csrf_failed' });

/** 401 without a Basic challenge, so a browser's script sees it and no password dialog opens. */
export const sessionRequired = (message: string, code = 'session_required'): GatewayError =>
  new GatewayError(401, message, { type: 'authentication_error', code });

const invalidSession = (): GatewayError => sessionRequired('The console session has expired or is no longer valid; sign in again.', 'invalid_session');

const SAFE_METHODS = new Set(['GET', 'HEAD']);
export const isSafeMethod = (method: string): boolean => SAFE_METHODS.has(method);

const SignIn = v.strictObject({
  username: v.message(v.pipe(v.string(), v.maxLength(256)), 'expected a string'),
  password: v.message(v.pipe(v.string(), v.maxLength(MAX_PASSWORD_LENGTH)), `expected a string of at most ${MAX_PASSWORD_LENGTH} characters`),
});

export class AdminSessions {
  constructor(private readonly deps: SessionDeps) {}

  /** POST, GET and DELETE /admin/session. `sourceIp`: the client's address for the login throttle. */
  async route(req: ApiRequest, method: string, body: () => unknown, sourceIp: string): Promise<ApiResponse> {
    if (method === 'POST') return this.signIn(req, body(), sourceIp);
    if (method === 'GET' || method === 'HEAD') {
      const token = sessionCookie(req.headers);
      if (token === undefined) throw sessionRequired('No console session; sign in with POST /admin/session.');
      return this.describe(await this.open(token));
    }
    if (method === 'DELETE') return this.signOut(req);
    throw new GatewayError(405, `Method ${method} is not allowed on ${SESSION_PATH}; allowed: GET, POST, DELETE.`, {
      type: 'invalid_request_error',
      code: 'method_not_allowed',
      headers: { allow: 'GET, POST, DELETE' },
    });
  }

  /**
   * The caller behind a session cookie; a write (not GET/HEAD) must also carry the session's
   * CSRF token in X-CSRF-Token, else 403 csrf_failed. 401 invalid_session for a bad or stale session.
   */
  async principal(req: ApiRequest, method: string, token: string): Promise<Principal> {
    const session = await this.open(token);
    if (!isSafeMethod(method) && !csrfTokenMatches(this.deps.key, token, req.headers[CSRF_HEADER])) {
      throw csrfFailed('A write with a console session needs the session\u2019s CSRF token in the X-CSRF-Token header.');
    }
    return session.principal;
  }

  private async signIn(req: ApiRequest, body: unknown, sourceIp: string): Promise<ApiResponse> {
    const creds = parseBody(SignIn, body);
    const refused = this.deps.signInGuard?.(req, creds.username, creds.password);
    if (refused) throw refused;
    const user = await verifyCredentials(this.deps.authenticator, creds, sourceIp, () =>
      sessionRequired('Invalid admin credentials.', 'invalid_admin_credentials'),
    );
    const nowMs = this.deps.services.now();
    const expiresAtMs = nowMs + this.deps.ttlSeconds * 1000;
    const token = signSession(this.deps.key, {
      username: user.username,
      role: user.role,
      issuedAtMs: nowMs,
      expiresAtMs,
      passwordFingerprint: passwordFingerprint(this.deps.key, user.password_hash),
    });
    const principal: Principal = { username: user.username, role: user.role };
    await recordAudit(this.deps.services, principal, 'session.create', {});
    const cookie = sessionSetCookie(token, this.deps.ttlSeconds, !isLoopbackRequestHost(req.headers));
    return this.describe({ principal, token, expiresAtMs }, cookie);
  }

  /** Always clears the cookie; a live session must show its CSRF token to be closed. */
  private async signOut(req: ApiRequest): Promise<ApiResponse> {
    const token = sessionCookie(req.headers);
    const session = token === undefined ? null : await this.open(token).catch(() => null);
    if (session && token !== undefined) {
      if (!csrfTokenMatches(this.deps.key, token, req.headers[CSRF_HEADER]))
        throw csrfFailed('Signing out needs the session\u2019s CSRF token in the X-CSRF-Token header.');
      await recordAudit(this.deps.services, session.principal, 'session.delete', {});
    }
    const response = noContent();
    return { ...response, headers: { ...response.headers, 'set-cookie': clearedSessionCookie(!isLoopbackRequestHost(req.headers)) } };
  }

  /** Verifies the token and that its user still exists with the same password; the user's current role. */
  private async open(token: string): Promise<OpenSession> {
    const claims = verifySession(this.deps.key, token, this.deps.services.now());
    if (!claims) throw invalidSession();
    const user = await this.deps.users.get(claims.username);
    if (!user || passwordFingerprint(this.deps.key, user.password_hash) !== claims.passwordFingerprint) throw invalidSession();
    return { principal: { username: user.username, role: user.role }, token, expiresAtMs: claims.expiresAtMs };
  }

  private describe(session: OpenSession, setCookie?: string): ApiResponse {
    const { principal } = session;
    return json(
      200,
      {
        object: 'admin.session',
        username: principal.username,
        role: principal.role,
        permissions: permissionsOf(principal.role),
        csrf_token: csrfTokenFor(this.deps.key, session.token),
        expires_at: iso(session.expiresAtMs),
      },
      setCookie === undefined ? {} : { 'set-cookie': setCookie },
    );
  }
}
