// What one Responses request does with stored responses: the conversation it continues
// (`previous_response_id`), the stored items its input refers to (`item_reference`,
// item-references.ts) and whether its answer is kept (`store`, true unless set false).
//
// Decisions:
// - A stored response keeps the canonical conversation: the input history it answered (without
//   that request's instructions: OpenAI does not carry them over) and its own output as an
//   assistant message with its function calls. So a conversation may switch providers between
//   turns, and a continued request is this request's instructions, that conversation, then its input.
// - An id that is not the tenant's, or has expired, is OpenAI's 400 previous_response_not_found;
//   a store that cannot answer is 503 store_unavailable (never "not found" for what may exist).
import type { ChatCompletionRequest, ChatMessage } from '../../chat/model';
import { badRequest, GatewayError } from '../../errors';
import type { Tenant } from '../../ports';
import type { WireRequest } from '../ingress';
import type { Json } from '../../validate';
import { itemPointerId, itemPointerJson, resolveItemReferences } from './item-references';
import { responseIdOfItem } from './response-object';
import { conversationOf, hasItemReferences, inputMessages, instructionsOf, withOutput } from './read-request';
import type { ResponseKeeper } from './response-keeper';
import type { ResponseObject, ResponsesRequest } from './types';

/**
 * Keeps a finished response (completed or incomplete) as the client got it: the object, and its
 * JSON text when already made (else it is made off the client's path; the object is not changed after).
 */
export type KeepResponse = (response: ResponseObject, json?: string) => void;

export interface StoredTurn {
  /** The request to serve. */
  request: ChatCompletionRequest;
  /** Keeps the answer; absent when the request said `store: false`. */
  keep?: KeepResponse;
  /**
   * The provider that answered the continued response natively and so keeps the conversation
   * itself (its reasoning and built-in tool items included): sent there, the request names the
   * response by id instead of carrying the history the gateway expanded.
   */
  continuedAt?: string;
  /** The size of the kept conversation the request continues (its JSON text), for the budget's estimate. */
  keptPromptChars?: number;
}

const previousNotFound = (id: string): GatewayError =>
  new GatewayError(400, `Previous response with id '${id}' not found.`, {
    type: 'invalid_request_error',
    param: 'previous_response_id',
    code: 'previous_response_not_found',
  });

/** The turn of `tenant`'s request `read` (from `wire`), over the responses `kept` (none: nothing is kept). */
export async function beginStoredTurn(kept: ResponseKeeper | undefined, tenant: Tenant, read: ChatCompletionRequest, wire: WireRequest): Promise<StoredTurn> {
  const { previous_response_id: previousId, store, input } = wire as unknown as ResponsesRequest;
  if (!kept) {
    if (typeof previousId === 'string') {
      throw badRequest("Unsupported parameter: 'previous_response_id': this gateway keeps no responses.", 'previous_response_id', 'unsupported_parameter');
    }
    return { request: read };
  }
  const refers = hasItemReferences(input);
  const [previous, asked] = await Promise.all([
    typeof previousId === 'string' ? storedHistory(kept, tenant, previousId) : undefined,
    // The request's own messages, with the stored items its references name in their place.
    refers ? resolveItemReferences(kept, tenant.id, input as Json[]).then(inputMessages) : conversationOf(read, wire),
  ]);
  const history = previous?.messages ?? [];
  // Item references name the gateway's items too: the upstream is then sent the expanded history.
  const continuedAt = refers ? undefined : previous?.nativeProvider;
  const keptPromptChars = previous?.chars;
  // The conversation this answer continues: what is kept with it, and sent after the instructions.
  const conversation = history.length > 0 ? [...history, ...asked] : asked;
  const request = history.length > 0 || refers ? { ...read, messages: [...instructionsOf(read, wire), ...conversation] } : read;
  if (store === false) return { request, continuedAt, keptPromptChars };
  return {
    request,
    continuedAt,
    keptPromptChars,
    keep: (response, json) => {
      kept.keep(tenant.id, response.id, () => ({
        tenant_id: tenant.id,
        id: response.id,
        created_at: response.created_at,
        response_json: json ?? JSON.stringify(response),
        messages_json: JSON.stringify(withOutput(conversation, response.output)),
      }));
      keepItemPointers(kept, tenant.id, response);
    },
  };
}

/**
 * For each output item whose id the gateway did not mint (a native answer's: messages, function
 * calls, reasoning and built-in tool items alike, as clients refer back to any of them), a record
 * naming its response.
 */
function keepItemPointers(kept: ResponseKeeper, tenantId: string, response: ResponseObject): void {
  for (const item of response.output) {
    if (typeof item.id !== 'string' || responseIdOfItem(item.id)) continue;
    const id = itemPointerId(item.id);
    kept.keep(tenantId, id, () => ({
      tenant_id: tenantId,
      id,
      created_at: response.created_at,
      response_json: itemPointerJson(response.id),
      messages_json: '[]',
    }));
  }
}

interface StoredHistory {
  /** The canonical messages kept with the response. */
  messages: ChatMessage[];
  /** The provider that answered it natively under this same id (see StoredTurn.continuedAt). */
  nativeProvider?: string;
  /** The length of its JSON text. */
  chars: number;
}

/** What is kept with the tenant's response `id`; 400 when it has none. */
async function storedHistory(kept: ResponseKeeper, tenant: Tenant, id: string): Promise<StoredHistory> {
  const record = await kept.get(tenant.id, id, kept.now());
  if (!record) throw previousNotFound(id);
  const messages = JSON.parse(record.messages_json) as ChatMessage[];
  // A response the gateway minted (a translated answer) has items with its id in theirs; a
  // native one keeps the upstream's id, under which the upstream kept it too.
  const response = JSON.parse(record.response_json) as ResponseObject;
  const answeredBy = response.x_gateway?.provider;
  const native = typeof answeredBy === 'string' && !response.output.some((item) => typeof item.id === 'string' && responseIdOfItem(item.id));
  const chars = record.messages_json.length;
  return native ? { messages, nativeProvider: answeredBy, chars } : { messages, chars };
}
