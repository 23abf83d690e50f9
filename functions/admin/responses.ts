// Response builders. Admin responses can carry a freshly minted key, so none may be cached.
import type { AdminResult } from './services';

const BASE_HEADERS = { 'cache-control': 'no-store' } as const;

export function json(status: number, body: unknown, headers: Record<string, string> = {}): AdminResult {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json', ...BASE_HEADERS, ...headers },
    body: JSON.stringify(body),
  };
}

export function noContent(): AdminResult {
  return { statusCode: 204, headers: { ...BASE_HEADERS }, body: '' };
}

export const list = <T>(data: T[]): { object: 'list'; data: T[] } => ({ object: 'list', data });
