// GET and DELETE /v1/responses/{id}: the calling tenant's stored response, read back as it was
// answered, or removed. The store is addressed by tenant and id together, so another tenant's id
// answers 404 exactly as an unknown one does. A store that cannot answer is 503 (see
// resilience/response-store.ts), never a 404 for a response that may exist.
import { jsonResponse, type ApiRequest, type ApiResponse } from './api-types';
import { notFound } from './errors';
import { itemPointerId } from './ingress/openai-responses/item-references';
import { responseIdOfItem } from './ingress/openai-responses/response-object';
import type { ResponseObject } from './ingress/openai-responses/types';
import type { ResponseStore, Tenant } from './ports';

export const RESPONSES_PATH = '/v1/responses';

export interface ResponseRoutesDeps {
  /** The request's tenant by its key; throws 401/403 (see `authenticateTenant`). */
  authenticate: (req: ApiRequest) => Promise<Tenant>;
  /** Only reads and deletes: stored responses are written where they are answered. */
  responses: Pick<ResponseStore, 'get' | 'delete'>;
  now: () => number;
}

export interface ResponseRoutes {
  /** GET /v1/responses/{id}: 200 with the response object as stored, or 404. */
  retrieve(req: ApiRequest, id: string): Promise<ApiResponse>;
  /** DELETE /v1/responses/{id}: 200 `{id, object: 'response', deleted: true}`, or 404. */
  remove(req: ApiRequest, id: string): Promise<ApiResponse>;
}

/** OpenAI's answer for an id it does not have (or that is not the caller's). */
const noSuchResponse = (id: string) => notFound(`No response found with id '${id}'.`);

export function responseRoutes(deps: ResponseRoutesDeps): ResponseRoutes {
  return {
    async retrieve(req, id) {
      const tenant = await deps.authenticate(req);
      const record = await deps.responses.get(tenant.id, id, deps.now());
      if (!record) throw noSuchResponse(id);
      // The object as the client first received it: already JSON, sent without a second encoding.
      return { status: 200, headers: { 'content-type': 'application/json' }, body: record.response_json };
    },
    async remove(req, id) {
      const tenant = await deps.authenticate(req);
      const nowMs = deps.now();
      const record = await deps.responses.get(tenant.id, id, nowMs);
      if (!record || !(await deps.responses.delete(tenant.id, id, nowMs))) throw noSuchResponse(id);
      // The records naming this response for each of its natively answered items go with it.
      const pointers = nativeItemIds(record.response_json).map((itemId) => deps.responses.delete(tenant.id, itemPointerId(itemId), nowMs));
      await Promise.all(pointers);
      return jsonResponse(200, { id, object: 'response', deleted: true });
    },
  };
}

/** The ids of a stored response's output items that the gateway did not mint (an answer forwarded natively). */
function nativeItemIds(responseJson: string): string[] {
  const { output } = JSON.parse(responseJson) as Partial<ResponseObject>;
  if (!Array.isArray(output)) return [];
  return output.flatMap((item) => (typeof item.id === 'string' && !responseIdOfItem(item.id) ? [item.id] : []));
}

/**
 * The id in `/v1/responses/{id}` (percent-decoded), or null for any other path: the collection
 * itself, a deeper path such as `/v1/responses/{id}/input_items`, or an id that does not decode.
 */
export function responseIdFromPath(path: string): string | null {
  const prefix = `${RESPONSES_PATH}/`;
  if (!path.startsWith(prefix)) return null;
  const raw = path.slice(prefix.length).replace(/\/+$/, '');
  if (raw === '' || raw.includes('/')) return null;
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}
