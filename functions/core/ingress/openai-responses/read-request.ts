// A Responses API request → the canonical chat request. Every field is checked (a 400 naming it);
// fields the translated providers cannot honour are refused rather than silently dropped, and a
// field the Responses API does not have is refused as OpenAI refuses it ("Unknown parameter").
//
// Decisions:
// - `instructions` becomes the first system message; `input` items become chat messages in order.
//   function_call items join the assistant message before them (consecutive calls are one
//   assistant turn, as chat completions has it); function_call_output items become tool messages.
// - Reasoning items a client replays from an earlier answer carry another provider's private
//   state: they are dropped.
// - item_reference items (one output item of a stored response, by its id) are read only where
//   responses are stored: the request read leaves them out, and its turn puts the stored items in
//   their place (item-references.ts, stored-turn.ts). Elsewhere they are refused.
// - What only an upstream that speaks the Responses API itself can run (built-in tools, a
//   tool_choice naming one, the items of their calls) is accepted here and left out of the
//   canonical request: it is forwarded natively, and refused (`refusedWhenTranslated`) where the
//   model asked for is served translated.
// - `metadata`, `store` and `text.verbosity` shape only the gateway's answer; `include`,
//   `truncation`, `service_tier`, `safety_identifier`, `prompt_cache_key`, `prompt_cache_retention`
//   and `stream_options` are accepted and have no effect on a translated provider.
import type { ChatCompletionRequest, ChatMessage, ContentPart, ResponseFormat, ToolDefinition } from '../../chat/model';
import { badRequest, type GatewayError } from '../../errors';
import { Checker, isObject, type Json } from '../../validate';
import type { WireRequest } from '../ingress';
import type { FunctionTool, OutputItem, ResponsesRequest, TextFormat } from './types';

/** The fields this ingress reads and translates. */
const TRANSLATED = new Set([
  'model',
  'input',
  'instructions',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'temperature',
  'top_p',
  'max_output_tokens',
  'text',
  'metadata',
  'store',
  'previous_response_id',
  'stream',
  'user',
  'reasoning',
]);
/** Responses API fields that change nothing a translated provider does. */
const WITHOUT_EFFECT = new Set(['include', 'truncation', 'service_tier', 'safety_identifier', 'prompt_cache_key', 'prompt_cache_retention', 'stream_options']);
/** Responses API fields whose behaviour the gateway does not offer (refused only when set). */
const NOT_OFFERED = new Set(['background', 'conversation', 'prompt', 'max_tool_calls', 'top_logprobs']);

const MESSAGE_ROLES = new Set(['user', 'system', 'developer', 'assistant']);
const METADATA_MAX_PAIRS = 16;
const METADATA_MAX_KEY = 64;
const METADATA_MAX_VALUE = 512;

/** Checks a Responses API request and translates it into the canonical chat request; item_reference items are refused. */
export function readResponsesRequest(body: Json): ChatCompletionRequest {
  return readRequest(body, false);
}

/**
 * As `readResponsesRequest`, for a gateway that stores responses: item_reference items are
 * accepted and left out of the request read, for its turn to resolve (stored-turn.ts).
 */
export function readResponsesRequestWithReferences(body: Json): ChatCompletionRequest {
  return readRequest(body, true);
}

/** The item types a translated provider is served (reasoning dropped, references resolved first). */
const TRANSLATED_ITEMS = new Set(['message', 'function_call', 'function_call_output', 'reasoning', 'item_reference']);

/**
 * The 400 a request accepted by `readResponsesRequest` gets where it is served translated: it
 * names the first built-in tool, built-in tool_choice or built-in tool item; undefined when none.
 */
export function refusedWhenTranslated(wire: WireRequest): GatewayError | undefined {
  const { tools, tool_choice: choice, input } = wire;
  const builtIn = Array.isArray(tools) ? tools.findIndex((tool) => isObject(tool) && tool.type !== 'function') : -1;
  if (builtIn >= 0) {
    const type = String((tools as Json[])[builtIn]?.type);
    return badRequest(`The '${type}' tool is not available on this provider; only function tools are.`, `tools[${builtIn}].type`, 'unsupported_tool');
  }
  if (isObject(choice) && choice.type !== 'function') {
    return badRequest(
      `Invalid value for 'tool_choice.type': the '${String(choice.type)}' tool is not available on this provider; only function tools are.`,
      'tool_choice.type',
      'invalid_value',
    );
  }
  if (!Array.isArray(input)) return undefined;
  for (const [i, item] of input.entries()) {
    const type = isObject(item) ? (item.type ?? (item.role !== undefined ? 'message' : undefined)) : undefined;
    if (typeof type === 'string' && !TRANSLATED_ITEMS.has(type)) {
      return badRequest(
        `Invalid value for 'input[${i}].type': '${type}' items are not supported; send message, function_call or function_call_output items.`,
        `input[${i}].type`,
        'invalid_value',
      );
    }
  }
  return undefined;
}

/** An `item_reference` input item: one item of a stored response, by its id. */
export interface ItemReference {
  type: 'item_reference';
  id: string;
}

/**
 * An input item's type. It may be left out: an item with a role is a message, and one with only
 * an id is a reference to a stored item (OpenAI's `ItemReference` has an optional type).
 */
export function itemType(item: Json): unknown {
  if (item.type !== undefined && item.type !== null) return item.type;
  if (item.role !== undefined) return 'message';
  return typeof item.id === 'string' ? 'item_reference' : undefined;
}

export const isItemReference = (item: Json): item is Json & ItemReference => itemType(item) === 'item_reference';

/** Whether a request's `input` refers to stored items. */
export const hasItemReferences = (input: ResponsesRequest['input']): boolean => typeof input !== 'string' && input.some(isItemReference);

/** Input items (checked by `readResponsesRequest`, references already resolved) as chat messages. */
export function inputMessages(items: readonly Json[]): ChatMessage[] {
  const messages: ChatMessage[] = [];
  for (const item of items) appendItem(messages, item);
  return messages;
}

function readRequest(body: Json, referencesAllowed: boolean): ChatCompletionRequest {
  const wire = checkResponsesRequest(body, referencesAllowed);
  const messages: ChatMessage[] = [];
  if (hasInstructions(wire)) messages.push({ role: 'system', content: wire.instructions });
  if (typeof wire.input === 'string') messages.push({ role: 'user', content: wire.input });
  else for (const item of wire.input) appendItem(messages, item);
  if (messages.length === 0 && !hasItemReferences(wire.input))
    throw badRequest("Invalid value for 'input': it must contain at least one message.", 'input', 'invalid_value');

  const request: ChatCompletionRequest = { model: wire.model, messages };
  if (wire.stream === true) request.stream = true;
  if (wire.temperature !== undefined && wire.temperature !== null) request.temperature = wire.temperature;
  if (wire.top_p !== undefined && wire.top_p !== null) request.top_p = wire.top_p;
  if (wire.max_output_tokens !== undefined && wire.max_output_tokens !== null) request.max_completion_tokens = wire.max_output_tokens;
  const functions = wire.tools?.filter((tool) => tool.type === 'function') ?? [];
  if (functions.length > 0) request.tools = functions.map(toCanonicalTool);
  const choice = wire.tool_choice;
  if (typeof choice === 'string') request.tool_choice = choice;
  else if (choice?.type === 'function') request.tool_choice = { type: 'function', function: { name: choice.name } };
  if (typeof wire.parallel_tool_calls === 'boolean') request.parallel_tool_calls = wire.parallel_tool_calls;
  const format = wire.text?.format;
  if (format) request.response_format = toResponseFormat(format);
  if (typeof wire.user === 'string' && wire.user !== '') request.user = wire.user;
  const effort = wire.reasoning?.effort;
  if (typeof effort === 'string') request.reasoning_effort = effort;
  return request;
}

const hasInstructions = <T extends { instructions?: unknown }>(wire: T): wire is T & { instructions: string } =>
  typeof wire.instructions === 'string' && wire.instructions !== '';

/**
 * The request's messages without the system message its `instructions` became: the conversation
 * a stored response keeps, since instructions are not carried over to the next response.
 */
export function conversationOf(request: ChatCompletionRequest, wire: WireRequest): ChatMessage[] {
  return hasInstructions(wire) ? request.messages.slice(1) : request.messages;
}

/** The request's `instructions`, as the system message that opens what is sent (none or one). */
export function instructionsOf(request: ChatCompletionRequest, wire: WireRequest): ChatMessage[] {
  return hasInstructions(wire) ? request.messages.slice(0, 1) : [];
}

/** The conversation followed by an answer's output items, as the canonical messages that continue it. */
export function withOutput(conversation: readonly ChatMessage[], output: readonly OutputItem[]): ChatMessage[] {
  const messages = [...conversation];
  // Output items are input items of the next request: read as a client replaying them is read.
  for (const item of output) appendItem(messages, item as unknown as Json);
  return messages;
}

/** The body as a Responses request, or a 400 naming the first field at fault. */
function checkResponsesRequest(body: Json, referencesAllowed: boolean): ResponsesRequest {
  const c: Checker = new Checker(body);
  for (const key of Object.keys(body)) {
    if (TRANSLATED.has(key) || WITHOUT_EFFECT.has(key)) continue;
    if (NOT_OFFERED.has(key)) {
      const v = body[key];
      if (v === undefined || v === null || v === false) continue;
      throw badRequest(`Unsupported parameter: '${key}' is not supported by this gateway.`, key, 'unsupported_parameter');
    }
    throw badRequest(`Unknown parameter: '${key}'.`, key, 'unknown_parameter');
  }
  if (body.model === undefined) throw badRequest("Missing required parameter: 'model'.", 'model', 'missing_required_parameter');
  if (typeof body.model !== 'string') c.fail('model', 'a string', body.model);
  if (body.model.trim() === '') throw badRequest("Invalid value for 'model': it must not be empty.", 'model', 'invalid_value');

  if (body.input === undefined || body.input === null) throw badRequest("Missing required parameter: 'input'.", 'input', 'missing_required_parameter');
  if (typeof body.input !== 'string' && !Array.isArray(body.input)) c.fail('input', 'a string or an array of input items', body.input);
  if (Array.isArray(body.input)) body.input.forEach((item, i) => checkItem(c, item, `input[${i}]`, referencesAllowed));

  if (body.instructions !== undefined && body.instructions !== null && typeof body.instructions !== 'string') {
    c.fail('instructions', 'a string', body.instructions);
  }
  c.optionalBoolean('stream');
  c.optionalBoolean('store');
  c.optionalBoolean('parallel_tool_calls');
  c.optionalNumber('temperature', 0, 2);
  c.optionalNumber('top_p', 0, 1);
  c.optionalNumber('max_output_tokens', 1, Number.MAX_SAFE_INTEGER, true);
  if (body.user !== undefined && body.user !== null && typeof body.user !== 'string') c.fail('user', 'a string', body.user);
  const previous = body.previous_response_id;
  if (previous !== undefined && previous !== null && (typeof previous !== 'string' || previous === ''))
    c.fail('previous_response_id', 'a non-empty string', previous);
  checkTools(c, body.tools);
  checkToolChoice(c, body.tool_choice);
  checkText(c, body.text);
  checkMetadata(c, body.metadata);
  checkReasoning(c, body.reasoning);
  return body as unknown as ResponsesRequest;
}

function checkItem(c: Checker, item: unknown, p: string, referencesAllowed: boolean): void {
  if (!isObject(item)) c.fail(p, 'an object', item);
  const type = itemType(item);
  if (type === 'message') {
    if (typeof item.role !== 'string' || !MESSAGE_ROLES.has(item.role)) {
      throw badRequest(`Invalid value for '${p}.role': expected one of user, system, developer, assistant.`, `${p}.role`, 'invalid_value');
    }
    const content = item.content;
    if (typeof content === 'string') return;
    if (!Array.isArray(content)) c.fail(`${p}.content`, 'a string or an array of content parts', content);
    content.forEach((part, j) => checkPart(c, part, `${p}.content[${j}]`, item.role === 'user'));
  } else if (type === 'function_call') {
    if (typeof item.call_id !== 'string' || item.call_id === '') c.fail(`${p}.call_id`, 'a non-empty string', item.call_id);
    if (typeof item.name !== 'string' || item.name === '') c.fail(`${p}.name`, 'a non-empty string', item.name);
    if (typeof item.arguments !== 'string') c.fail(`${p}.arguments`, 'a string', item.arguments);
  } else if (type === 'function_call_output') {
    if (typeof item.call_id !== 'string' || item.call_id === '') c.fail(`${p}.call_id`, 'a non-empty string', item.call_id);
    const output = item.output;
    if (typeof output === 'string') return;
    if (!Array.isArray(output)) c.fail(`${p}.output`, 'a string or an array of content parts', output);
    output.forEach((part, j) => {
      const q = `${p}.output[${j}]`;
      if (!isObject(part)) c.fail(q, 'an object', part);
      if (part.type !== 'input_text')
        throw badRequest(`Invalid value for '${q}.type': only 'input_text' parts are supported in a function call's output.`, `${q}.type`, 'invalid_value');
      if (typeof part.text !== 'string') c.fail(`${q}.text`, 'a string', part.text);
    });
  } else if (type === 'reasoning') {
    // Dropped in translation: another provider's private reasoning state.
  } else if (type === 'item_reference') {
    if (referencesAllowed) {
      if (typeof item.id !== 'string' || item.id === '') c.fail(`${p}.id`, 'a non-empty string', item.id);
      return;
    }
    throw badRequest(
      `Unsupported value for '${p}.type': item references are not supported; continue a stored response with 'previous_response_id', or send its items.`,
      `${p}.type`,
      'unsupported_value',
    );
  } else if (typeof type === 'string') {
    // A built-in tool's item (web_search_call, ...): the native upstream's to check (refusedWhenTranslated).
  } else {
    throw badRequest(
      `Invalid value for '${p}.type': expected an item type; send message, function_call or function_call_output items.`,
      `${p}.type`,
      'invalid_value',
    );
  }
}

function checkPart(c: Checker, part: unknown, p: string, imagesAllowed: boolean): void {
  if (!isObject(part)) c.fail(p, 'an object', part);
  if (part.type === 'input_text' || part.type === 'output_text') {
    if (typeof part.text !== 'string') c.fail(`${p}.text`, 'a string', part.text);
  } else if (part.type === 'refusal') {
    if (typeof part.refusal !== 'string') c.fail(`${p}.refusal`, 'a string', part.refusal);
  } else if (part.type === 'input_image') {
    if (!imagesAllowed) throw badRequest(`Invalid value for '${p}.type': images are accepted in user messages only.`, `${p}.type`, 'invalid_value');
    if (part.file_id !== undefined && part.file_id !== null) {
      throw badRequest(
        `Unsupported parameter: '${p}.file_id': uploaded files are not supported; send the image as 'image_url' (a URL or a data URL).`,
        `${p}.file_id`,
        'unsupported_parameter',
      );
    }
    if (typeof part.image_url !== 'string' || part.image_url === '') c.fail(`${p}.image_url`, 'a non-empty string', part.image_url);
    if (part.detail !== undefined && part.detail !== 'auto' && part.detail !== 'low' && part.detail !== 'high') {
      throw badRequest(`Invalid value for '${p}.detail': expected 'auto', 'low' or 'high'.`, `${p}.detail`, 'invalid_value');
    }
  } else {
    throw badRequest(
      `Invalid value for '${p}.type': ${typeof part.type === 'string' ? `'${part.type}' parts are not supported` : 'expected a part type'}; send input_text or input_image parts.`,
      `${p}.type`,
      'invalid_value',
    );
  }
}

function checkTools(c: Checker, tools: unknown): void {
  if (tools === undefined || tools === null) return;
  if (!Array.isArray(tools)) c.fail('tools', 'an array', tools);
  tools.forEach((t, i) => {
    const p = `tools[${i}]`;
    if (!isObject(t)) c.fail(p, 'an object', t);
    if (typeof t.type !== 'string') c.fail(`${p}.type`, 'a string', t.type);
    // A built-in tool (web_search, file_search, ...) is the upstream's to check: the pipeline refuses
    // it where no target speaks the Responses API (builtInToolRefused).
    if (t.type !== 'function') return;
    if (typeof t.name !== 'string' || t.name === '') c.fail(`${p}.name`, 'a non-empty string', t.name);
    if (t.description !== undefined && t.description !== null && typeof t.description !== 'string') c.fail(`${p}.description`, 'a string', t.description);
    if (t.parameters !== undefined && t.parameters !== null && !isObject(t.parameters)) c.fail(`${p}.parameters`, 'an object', t.parameters);
    if (t.strict !== undefined && t.strict !== null && typeof t.strict !== 'boolean') c.fail(`${p}.strict`, 'a boolean', t.strict);
  });
}

function checkToolChoice(c: Checker, choice: unknown): void {
  if (choice === undefined || choice === null || choice === 'auto' || choice === 'none' || choice === 'required') return;
  if (!isObject(choice)) {
    throw badRequest("Invalid value for 'tool_choice': expected 'auto', 'none', 'required' or {type: 'function', name}.", 'tool_choice', 'invalid_value');
  }
  if (typeof choice.type !== 'string') c.fail('tool_choice.type', 'a string', choice.type);
  // A built-in tool's choice is the native upstream's to check (refusedWhenTranslated).
  if (choice.type !== 'function') return;
  if (typeof choice.name !== 'string' || choice.name === '') c.fail('tool_choice.name', 'a non-empty string', choice.name);
}

function checkText(c: Checker, text: unknown): void {
  if (text === undefined || text === null) return;
  if (!isObject(text)) c.fail('text', 'an object', text);
  const format = text.format;
  if (format === undefined || format === null) return;
  if (!isObject(format)) c.fail('text.format', 'an object', format);
  if (format.type === 'json_schema') {
    if (typeof format.name !== 'string' || format.name === '') c.fail('text.format.name', 'a non-empty string', format.name);
    if (!isObject(format.schema)) c.fail('text.format.schema', 'an object', format.schema);
    if (format.strict !== undefined && format.strict !== null && typeof format.strict !== 'boolean') c.fail('text.format.strict', 'a boolean', format.strict);
  } else if (format.type !== 'text' && format.type !== 'json_object') {
    throw badRequest("Invalid value for 'text.format.type': expected 'text', 'json_object' or 'json_schema'.", 'text.format.type', 'invalid_value');
  }
}

function checkMetadata(c: Checker, metadata: unknown): void {
  if (metadata === undefined || metadata === null) return;
  if (!isObject(metadata)) c.fail('metadata', 'an object', metadata);
  const entries = Object.entries(metadata);
  if (entries.length > METADATA_MAX_PAIRS) {
    throw badRequest(`Invalid value for 'metadata': at most ${METADATA_MAX_PAIRS} key-value pairs.`, 'metadata', 'invalid_value');
  }
  for (const [key, value] of entries) {
    if (key.length > METADATA_MAX_KEY)
      throw badRequest(`Invalid value for 'metadata': keys are at most ${METADATA_MAX_KEY} characters.`, 'metadata', 'invalid_value');
    if (typeof value !== 'string') c.fail(`metadata.${key}`, 'a string', value);
    if (value.length > METADATA_MAX_VALUE) {
      throw badRequest(`Invalid value for 'metadata.${key}': values are at most ${METADATA_MAX_VALUE} characters.`, `metadata.${key}`, 'invalid_value');
    }
  }
}

function checkReasoning(c: Checker, reasoning: unknown): void {
  if (reasoning === undefined || reasoning === null) return;
  if (!isObject(reasoning)) c.fail('reasoning', 'an object', reasoning);
  const effort = reasoning.effort;
  if (effort !== undefined && effort !== null && typeof effort !== 'string') c.fail('reasoning.effort', 'a string', effort);
}

/** Appends one input item to the chat messages, merging a function call into the assistant turn before it. */
function appendItem(messages: ChatMessage[], item: Json): void {
  const type = itemType(item);
  if (type === 'function_call') {
    const call = { id: String(item.call_id), type: 'function' as const, function: { name: String(item.name), arguments: String(item.arguments) } };
    const last = messages.at(-1);
    if (last?.role === 'assistant') (last.tool_calls ??= []).push(call);
    else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
  } else if (type === 'function_call_output') {
    const output = item.output;
    const content = typeof output === 'string' ? output : (output as Array<{ text: string }>).map((part) => part.text).join('');
    messages.push({ role: 'tool', tool_call_id: String(item.call_id), content });
  } else if (type === 'message') {
    messages.push(toChatMessage(item));
  }
}

function toChatMessage(item: Json): ChatMessage {
  const role = item.role as 'user' | 'system' | 'developer' | 'assistant';
  const content = item.content as string | Json[];
  if (typeof content === 'string') return { role, content };
  const text = (part: Json): string => String(part.type === 'refusal' ? part.refusal : part.text);
  // An earlier answer replayed: its text (and any refusal) as one string, so function calls can join it.
  if (role === 'assistant') return { role, content: content.map(text).join('') };
  return {
    role,
    content: content.map((part): ContentPart => {
      if (part.type !== 'input_image') return { type: 'text', text: text(part) };
      const detail = part.detail as 'auto' | 'low' | 'high' | undefined;
      return { type: 'image_url', image_url: detail ? { url: String(part.image_url), detail } : { url: String(part.image_url) } };
    }),
  };
}

function toCanonicalTool(tool: FunctionTool): ToolDefinition {
  const fn: ToolDefinition['function'] = { name: tool.name };
  if (typeof tool.description === 'string') fn.description = tool.description;
  if (tool.parameters) fn.parameters = tool.parameters;
  if (typeof tool.strict === 'boolean') fn.strict = tool.strict;
  return { type: 'function', function: fn };
}

function toResponseFormat(format: TextFormat): ResponseFormat {
  if (format.type !== 'json_schema') return { type: format.type };
  const schema: { name: string; schema?: Record<string, unknown>; strict?: boolean; description?: string } = { name: format.name, schema: format.schema };
  if (typeof format.strict === 'boolean') schema.strict = format.strict;
  if (typeof format.description === 'string') schema.description = format.description;
  return { type: 'json_schema', json_schema: schema };
}
