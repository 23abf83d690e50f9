// The console's only door to the admin API: same origin, the session cookie (HttpOnly, so never
// visible here) and, on every write, the CSRF token the session body handed out.
import type { Session } from './types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | null,
    readonly param: string | null,
    readonly retryAfterSeconds: number | null,
  ) {
    super(message);
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

let csrfToken = '';
let onSignedOut: () => void = () => undefined;

/** Remembers the token every write must carry; it comes with each session body. */
export function setSessionToken(session: Session | null): void {
  csrfToken = session?.csrf_token ?? '';
}

/** What to do when a request finds the session gone (expired, user deleted). */
export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

interface ErrorBody {
  error?: { message?: unknown; code?: unknown; param?: unknown };
}

async function request<T>(method: Method, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const parsed: unknown = text === '' ? null : safeJson(text);
  if (!res.ok) {
    const err = (parsed as ErrorBody | null)?.error;
    const message = typeof err?.message === 'string' ? err.message : `${res.status} ${res.statusText}`;
    const retry = Number(res.headers.get('retry-after'));
    const apiError = new ApiError(
      res.status,
      message,
      typeof err?.code === 'string' ? err.code : null,
      typeof err?.param === 'string' ? err.param : null,
      Number.isFinite(retry) && retry > 0 ? retry : null,
    );
    if (res.status === 401 && path !== '/admin/session') onSignedOut();
    throw apiError;
  }
  return parsed as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

export const api = {
  get: <T>(path: string) => request<T>('GET', path),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {}),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, body),
  delete: (path: string) => request<void>('DELETE', path),
};

/** `/admin/x?a=1&b=2`, leaving out empty values. */
export function withQuery(path: string, query: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, v);
  const qs = params.toString();
  return qs === '' ? path : `${path}?${qs}`;
}

export const tenantPath = (id: string): string => `/admin/tenants/${encodeURIComponent(id)}`;
