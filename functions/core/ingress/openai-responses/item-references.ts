// item_reference input items resolved against the tenant's stored responses: each is replaced by
// the output item it names (an answer's message, or one of its function calls), which is then read
// as a client replaying that item is read.
//
// Decisions:
// - An item finds its response without a scan and without an index of its own: the ids of the
//   output items the gateway mints carry their response's id (response-object.ts `outputItemId`),
//   so one `get` of that response, the tenant's own, finds it, and the store keeps one record per
//   response as before. The items of an answer OpenAI gave natively keep OpenAI's ids: each of its
//   output items is kept with a small record naming its response (`itemPointerId`), so such an
//   item takes one read more. A reasoning or built-in tool item referred to is found, and then
//   left out as those items are when replayed (read-request.ts). Any other id names nothing.
// - Another tenant's item, an unknown, deleted or expired one is OpenAI's 400 "Item with id '…'
//   not found." (`param: 'input'`); a store that cannot answer is 503 store_unavailable (from the
//   store), never "not found" for what may exist.
// - Each response referred to is read once, all of them at once, however many of its items are named.
import { badRequest, type GatewayError } from '../../errors';
import type { Json } from '../../validate';
import { isItemReference } from './read-request';
import type { ResponseKeeper } from './response-keeper';
import { responseIdOfItem } from './response-object';
import type { OutputItem, ResponseObject } from './types';

const itemNotFound = (id: string): GatewayError => badRequest(`Item with id '${id}' not found.`, 'input');

/** The input items with each item_reference replaced by the tenant's stored output item it names. */
export async function resolveItemReferences(kept: ResponseKeeper, tenantId: string, input: readonly Json[]): Promise<Json[]> {
  const nowMs = kept.now();
  // The response holding each referred item, by the item's id.
  const holders = new Map<string, string>();
  const ids = new Set(input.filter(isItemReference).map((item) => item.id));
  await Promise.all(
    [...ids].map(async (id) => {
      const responseId = responseIdOfItem(id) ?? (await pointedResponse(kept, tenantId, id, nowMs));
      if (!responseId) throw itemNotFound(id);
      holders.set(id, responseId);
    }),
  );
  const outputs = new Map<string, readonly OutputItem[]>();
  await Promise.all(
    [...new Set(holders.values())].map(async (responseId) => {
      const record = await kept.get(tenantId, responseId, nowMs);
      if (record) outputs.set(responseId, (JSON.parse(record.response_json) as ResponseObject).output);
    }),
  );
  return input.map((item) => {
    if (!isItemReference(item)) return item;
    const found = outputs.get(holders.get(item.id) ?? '')?.find((output) => output.id === item.id);
    if (!found) throw itemNotFound(item.id);
    return found as unknown as Json;
  });
}

/**
 * The id of the record that names the response holding the item `itemId`, for an item whose id
 * the gateway did not mint. A '/' keeps it out of GET /v1/responses/{id}, which serves no deeper path.
 */
export const itemPointerId = (itemId: string): string => `${itemId}/response`;

/** The record's text for an item of the response `responseId`. */
export const itemPointerJson = (responseId: string): string => JSON.stringify({ response_id: responseId });

async function pointedResponse(kept: ResponseKeeper, tenantId: string, itemId: string, nowMs: number): Promise<string | undefined> {
  const pointer = await kept.get(tenantId, itemPointerId(itemId), nowMs);
  if (!pointer) return undefined;
  const { response_id: responseId } = JSON.parse(pointer.response_json) as { response_id?: unknown };
  return typeof responseId === 'string' ? responseId : undefined;
}
