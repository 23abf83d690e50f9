// Response builders. Admin responses can carry a freshly minted key, so none may be cached.
import { jsonResponse, type ApiResponse } from '../core/api-types';

const BASE_HEADERS = { 'cache-control': 'no-store' } as const;

export function json(status: number, body: unknown, headers: Record<string, string> = {}): ApiResponse {
  return jsonResponse(status, body, { ...BASE_HEADERS, ...headers });
}

export function noContent(): ApiResponse {
  return { status: 204, headers: { ...BASE_HEADERS }, body: '' };
}

export const list = <T>(data: T[]): { object: 'list'; data: T[] } => ({ object: 'list', data });
