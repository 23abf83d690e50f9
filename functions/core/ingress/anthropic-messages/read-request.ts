// An Anthropic Messages request → the canonical chat request. Every field is checked (a 400 naming
// it); a field the API does not have is refused as Anthropic refuses it ("Extra inputs are not
// permitted").
//
// Decisions:
// - `system` (a string or text blocks) becomes the first message; each turn of `messages` becomes
//   one chat message, but a user turn's tool_result blocks become tool messages, placed before
//   the rest of the turn as chat completions wants them right after the assistant's calls.
// - A tool result's images and PDFs cannot ride in a tool message (OpenAI's carry text only): they
//   go in one user message after the turn's tool messages, each result's introduced by a line
//   naming its call. A plain-text document in a tool result joins its text.
//   `is_error` has no canonical counterpart and is left out; the result's text says what failed.
// - `cache_control` is accepted on every block and left out: no translated upstream takes it
//   (the Anthropic provider's own translation does not carry it).
// - `thinking` and `redacted_thinking` blocks of earlier answers are another provider's private
//   reasoning: left out. Request `thinking` {type: enabled, budget_tokens} becomes
//   `reasoning_effort` for upstreams that have one: below 8,192 tokens low, below 24,576 medium,
//   else high (Claude Code's "think" 4,000, "think hard" 10,000 and "ultrathink" 31,999 land on
//   each); `disabled` and `adaptive` set none. `output_config.effort` low, medium or high is
//   taken as it is where `thinking` set none (other efforts set none); `output_config.format`
//   (structured outputs, a JSON schema) becomes `response_format` json_schema.
// - `max_tokens` (required, as Anthropic requires it) → `max_completion_tokens`;
//   `stop_sequences` → `stop`; `metadata.user_id` → `user`; `tool_choice` any → required,
//   tool → the named function, `disable_parallel_tool_use` → `parallel_tool_calls: false`;
//   `top_k` stays `top_k`, a canonical extension field only upstreams that take it read (Ollama).
// - Tools with a `type` (Anthropic's server tools such as web_search_20250305, and its
//   Anthropic-defined client tools such as bash_20250124), and the blocks of server tool calls in
//   the history, only Anthropic itself can serve: accepted here, left out of the canonical
//   request, and refused by `refusedWhenTranslated` where the request is translated.
// - `service_tier` and `context_management` change nothing a translated upstream does; `container`
//   and `mcp_servers` are refused when set.
import type { ChatCompletionRequest, ChatMessage, ContentPart, ToolCall, ToolDefinition } from '../../chat/model';
import { badRequest, type GatewayError } from '../../errors';
import { Checker, isObject, type Json } from '../../validate';
import type { WireRequest } from '../ingress';
import type { MessagesRequest } from './types';

/** The fields this ingress reads and translates. */
const TRANSLATED = new Set([
  'model',
  'max_tokens',
  'messages',
  'system',
  'tools',
  'tool_choice',
  'stop_sequences',
  'temperature',
  'top_p',
  'top_k',
  'metadata',
  'thinking',
  'output_config',
  'stream',
]);
/** Messages API fields that change nothing a translated provider does. */
const WITHOUT_EFFECT = new Set(['service_tier', 'context_management']);
/** Messages API fields whose behaviour the gateway does not offer (refused only when set). */
const NOT_OFFERED = new Set(['container', 'mcp_servers']);

/** Request blocks of a user turn and of an assistant turn that translate. */
const USER_BLOCKS = new Set(['text', 'image', 'document', 'tool_result']);
const ASSISTANT_BLOCKS = new Set(['text', 'tool_use', 'thinking', 'redacted_thinking']);

/** Blocks of a server tool's call and result (web search, code execution, MCP...): only Anthropic runs those tools. */
const isServerToolBlock = (type: string): boolean =>
  type === 'server_tool_use' || type === 'mcp_tool_use' || type === 'container_upload' || (type.endsWith('_tool_result') && type !== 'tool_result');

/** Extended-thinking budgets at or above these ask for more reasoning effort. */
const MEDIUM_EFFORT_BUDGET = 8192;
const HIGH_EFFORT_BUDGET = 24576;
/** Anthropic's smallest thinking budget. */
const MIN_THINKING_BUDGET = 1024;
/** `output_config.effort` values that are reasoning efforts as the canonical model names them. */
const EFFORTS = new Set(['low', 'medium', 'high']);
/** The name a structured-output schema is given: chat completions requires one, Anthropic's has none. */
const SCHEMA_NAME = 'output';

/** Checks a Messages request and translates it into the canonical chat request. */
export function readMessagesRequest(body: Json): ChatCompletionRequest {
  const wire = checkMessagesRequest(body);
  const messages: ChatMessage[] = [];
  const system = systemMessage(wire.system);
  if (system) messages.push(system);
  for (const turn of wire.messages) appendTurn(messages, turn);

  const request: ChatCompletionRequest = { model: wire.model, messages, max_completion_tokens: wire.max_tokens };
  if (wire.stream === true) request.stream = true;
  if (typeof wire.temperature === 'number') request.temperature = wire.temperature;
  if (typeof wire.top_p === 'number') request.top_p = wire.top_p;
  if (typeof wire.top_k === 'number') request.top_k = wire.top_k;
  if (wire.stop_sequences && wire.stop_sequences.length > 0) request.stop = wire.stop_sequences;
  const tools = (wire.tools ?? []).filter(isCustomTool).map(toCanonicalTool);
  if (tools.length > 0) request.tools = tools;
  const choice = wire.tool_choice;
  // Chat completions refuses a tool choice without tools; Anthropic's means nothing without them.
  if (choice && tools.length > 0) {
    request.tool_choice = toCanonicalToolChoice(choice);
    if ('disable_parallel_tool_use' in choice && choice.disable_parallel_tool_use === true) request.parallel_tool_calls = false;
  }
  const user = wire.metadata?.user_id;
  if (typeof user === 'string' && user !== '') request.user = user;
  const effort = wire.output_config?.effort;
  if (wire.thinking?.type === 'enabled') request.reasoning_effort = reasoningEffort(wire.thinking.budget_tokens);
  else if (typeof effort === 'string' && EFFORTS.has(effort)) request.reasoning_effort = effort;
  const schema = wire.output_config?.format?.schema;
  if (schema) request.response_format = { type: 'json_schema', json_schema: { name: SCHEMA_NAME, schema } };
  return request;
}

/**
 * The 400 a request accepted by `readMessagesRequest` gets where it is served translated: it names
 * the first tool with a type (a server or Anthropic-defined tool) or the first block of a server
 * tool's call in the history; undefined when there is none.
 */
export function refusedWhenTranslated(wire: WireRequest): GatewayError | undefined {
  const { tools, messages } = wire as unknown as MessagesRequest;
  const typed = (tools ?? []).findIndex((tool) => !isCustomTool(tool));
  if (typed >= 0) {
    const type = String(tools?.[typed]?.type);
    return badRequest(
      `tools.${typed}: the '${type}' tool is run by Anthropic and is not available on this provider; only custom tools (name, description, input_schema) are.`,
      `tools[${typed}].type`,
    );
  }
  for (const [i, turn] of messages.entries()) {
    if (typeof turn.content === 'string') continue;
    const j = turn.content.findIndex((block) => isServerToolBlock(String(block.type)));
    if (j >= 0) {
      return badRequest(
        `messages.${i}.content.${j}: '${String(turn.content[j]?.type)}' blocks come from a tool Anthropic runs and are not available on this provider.`,
        `messages[${i}].content[${j}].type`,
      );
    }
  }
  return undefined;
}

const isCustomTool = (tool: Json): boolean => tool.type === undefined || tool.type === null || tool.type === 'custom';

/** The reasoning effort an extended-thinking budget asks for (see the decisions above). */
export function reasoningEffort(budgetTokens: number): 'low' | 'medium' | 'high' {
  if (budgetTokens < MEDIUM_EFFORT_BUDGET) return 'low';
  if (budgetTokens < HIGH_EFFORT_BUDGET) return 'medium';
  return 'high';
}

// ---- translation --------------------------------------------------------------------------

function systemMessage(system: MessagesRequest['system']): ChatMessage | undefined {
  if (system === undefined) return undefined;
  if (typeof system === 'string') return system === '' ? undefined : { role: 'system', content: system };
  const parts = system.filter((block) => block.text !== '').map((block): ContentPart => ({ type: 'text', text: block.text }));
  return parts.length === 0 ? undefined : { role: 'system', content: compact(parts) };
}

/** One text part as a plain string (what every upstream reads most simply); anything else as parts. */
function compact(parts: ContentPart[]): string | ContentPart[] {
  const only = parts[0];
  return parts.length === 1 && only?.type === 'text' ? String((only as { text: string }).text) : parts;
}

function appendTurn(messages: ChatMessage[], turn: MessagesRequest['messages'][number]): void {
  if (typeof turn.content === 'string') {
    messages.push({ role: turn.role, content: turn.content });
    return;
  }
  if (turn.role === 'assistant') {
    const assistant = assistantMessage(turn.content);
    if (assistant) messages.push(assistant);
    return;
  }
  const attachments: ContentPart[] = [];
  const parts: ContentPart[] = [];
  for (const block of turn.content) {
    if (block.type === 'tool_result') {
      const id = String(block.tool_use_id);
      const { text, files } = toolResultContent(block.content);
      messages.push({ role: 'tool', tool_call_id: id, content: text });
      if (files.length > 0) attachments.push({ type: 'text', text: `Returned by tool call ${id}:` }, ...files);
    } else if (block.type === 'text') {
      parts.push({ type: 'text', text: String(block.text) });
    } else if (block.type === 'image') {
      parts.push(imagePart(block.source as Json));
    } else if (block.type === 'document') {
      parts.push(documentPart(block));
    }
    // Server tool results: refused where translated (refusedWhenTranslated).
  }
  const content = [...attachments, ...parts];
  if (content.length > 0) messages.push({ role: 'user', content: compact(content) });
}

/** An assistant turn's text and tool calls as one chat message (its thinking left out), or undefined when nothing remains. */
function assistantMessage(blocks: Json[]): ChatMessage | undefined {
  const texts: string[] = [];
  const calls: ToolCall[] = [];
  for (const block of blocks) {
    if (block.type === 'text') texts.push(String(block.text));
    else if (block.type === 'tool_use') {
      calls.push({ id: String(block.id), type: 'function', function: { name: String(block.name), arguments: JSON.stringify(block.input) } });
    }
  }
  if (texts.length === 0 && calls.length === 0) return undefined;
  const message: ChatMessage = { role: 'assistant', content: texts.length > 0 ? texts.join('') : null };
  if (calls.length > 0) message.tool_calls = calls;
  return message;
}

/** A tool result's text, and the images and PDFs that cannot ride in a tool message. */
function toolResultContent(content: unknown): { text: string; files: ContentPart[] } {
  if (content === undefined || content === null) return { text: '', files: [] };
  if (typeof content === 'string') return { text: content, files: [] };
  const texts: string[] = [];
  const files: ContentPart[] = [];
  for (const block of content as Json[]) {
    if (block.type === 'text') texts.push(String(block.text));
    else if (block.type === 'image') files.push(imagePart(block.source as Json));
    else {
      const part = documentPart(block);
      if (part.type === 'text') texts.push(String((part as { text: string }).text));
      else files.push(part);
    }
  }
  return { text: texts.join('\n'), files };
}

function imagePart(source: Json): ContentPart {
  const url = source.type === 'base64' ? `data:${String(source.media_type)};base64,${String(source.data)}` : String(source.url);
  return { type: 'image_url', image_url: { url } };
}

/** A PDF becomes a `file` part (the Anthropic provider sends it as a document again); plain text, a text part. */
function documentPart(block: Json): ContentPart {
  const source = block.source as Json;
  if (source.type === 'text') return { type: 'text', text: String(source.data) };
  const file: Record<string, string> = { file_data: `data:application/pdf;base64,${String(source.data)}` };
  if (typeof block.title === 'string' && block.title !== '') file.filename = block.title;
  return { type: 'file', file };
}

function toCanonicalTool(tool: Json): ToolDefinition {
  const fn: ToolDefinition['function'] = { name: String(tool.name), parameters: tool.input_schema as Record<string, unknown> };
  if (typeof tool.description === 'string') fn.description = tool.description;
  return { type: 'function', function: fn };
}

function toCanonicalToolChoice(choice: NonNullable<MessagesRequest['tool_choice']>): unknown {
  if (choice.type === 'any') return 'required';
  if (choice.type === 'tool') return { type: 'function', function: { name: choice.name } };
  return choice.type;
}

// ---- checks -------------------------------------------------------------------------------

/** The body as a Messages request, or a 400 naming the first field at fault. */
function checkMessagesRequest(body: Json): MessagesRequest {
  const c: Checker = new Checker(body);
  for (const key of Object.keys(body)) {
    if (TRANSLATED.has(key) || WITHOUT_EFFECT.has(key)) continue;
    if (NOT_OFFERED.has(key)) {
      const v = body[key];
      if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) continue;
      throw badRequest(`${key}: this gateway does not offer '${key}'.`, key);
    }
    throw badRequest(`${key}: Extra inputs are not permitted`, key);
  }
  if (body.model === undefined) throw badRequest('model: Field required', 'model');
  if (typeof body.model !== 'string' || body.model.trim() === '') c.fail('model', 'a non-empty string', body.model);
  if (body.max_tokens === undefined) throw badRequest('max_tokens: Field required', 'max_tokens');
  c.optionalNumber('max_tokens', 1, Number.MAX_SAFE_INTEGER, true);
  const turns: unknown = body.messages;
  if (turns === undefined) throw badRequest('messages: Field required', 'messages');
  if (!Array.isArray(turns)) c.fail('messages', 'an array of messages', turns);
  if (turns.length === 0) throw badRequest('messages: at least one message is required', 'messages');
  turns.forEach((turn, i) => checkTurn(c, turn, `messages[${i}]`));
  checkSystem(c, body.system);
  checkTools(c, body.tools);
  checkToolChoice(c, body.tool_choice);
  const stops: unknown = body.stop_sequences;
  if (stops !== undefined && stops !== null) {
    if (!Array.isArray(stops)) c.fail('stop_sequences', 'an array of strings', stops);
    stops.forEach((s, i) => {
      if (typeof s !== 'string') c.fail(`stop_sequences[${i}]`, 'a string', s);
    });
  }
  c.optionalNumber('temperature', 0, 1);
  c.optionalNumber('top_p', 0, 1);
  c.optionalNumber('top_k', 0, Number.MAX_SAFE_INTEGER, true);
  c.optionalBoolean('stream');
  checkMetadata(c, body.metadata);
  checkThinking(c, body.thinking);
  checkOutputConfig(c, body.output_config);
  return body as unknown as MessagesRequest;
}

function checkTurn(c: Checker, turn: unknown, p: string): void {
  if (!isObject(turn)) c.fail(p, 'an object', turn);
  if (turn.role !== 'user' && turn.role !== 'assistant') {
    throw badRequest(`${p}.role: Input should be 'user' or 'assistant'`, `${p}.role`);
  }
  const content = turn.content;
  if (typeof content === 'string') return;
  if (!Array.isArray(content)) c.fail(`${p}.content`, 'a string or an array of content blocks', content);
  const allowed = turn.role === 'user' ? USER_BLOCKS : ASSISTANT_BLOCKS;
  content.forEach((block, j) => checkBlock(c, block, `${p}.content[${j}]`, allowed, turn.role as string));
}

function checkBlock(c: Checker, block: unknown, p: string, allowed: ReadonlySet<string>, role: string): void {
  if (!isObject(block)) c.fail(p, 'an object', block);
  const type = block.type;
  if (typeof type !== 'string') c.fail(`${p}.type`, 'a string', type);
  checkCacheControl(c, block.cache_control, `${p}.cache_control`);
  if (isServerToolBlock(type)) return; // refusedWhenTranslated names it where the request is translated
  if (!allowed.has(type)) {
    throw badRequest(`${p}.type: '${type}' blocks are not accepted in ${role} messages.`, `${p}.type`);
  }
  if (type === 'text') {
    if (typeof block.text !== 'string') c.fail(`${p}.text`, 'a string', block.text);
  } else if (type === 'image') {
    checkImageSource(c, block.source, `${p}.source`);
  } else if (type === 'document') {
    checkDocumentSource(c, block.source, `${p}.source`);
    if (block.title !== undefined && block.title !== null && typeof block.title !== 'string') c.fail(`${p}.title`, 'a string', block.title);
  } else if (type === 'tool_result') {
    checkToolResult(c, block, p);
  } else if (type === 'tool_use') {
    if (typeof block.id !== 'string' || block.id === '') c.fail(`${p}.id`, 'a non-empty string', block.id);
    if (typeof block.name !== 'string' || block.name === '') c.fail(`${p}.name`, 'a non-empty string', block.name);
    if (!isObject(block.input)) c.fail(`${p}.input`, 'an object', block.input);
  } else if (type === 'thinking') {
    if (typeof block.thinking !== 'string') c.fail(`${p}.thinking`, 'a string', block.thinking);
  } else if (type === 'redacted_thinking') {
    if (typeof block.data !== 'string') c.fail(`${p}.data`, 'a string', block.data);
  }
}

function checkToolResult(c: Checker, block: Json, p: string): void {
  if (typeof block.tool_use_id !== 'string' || block.tool_use_id === '') c.fail(`${p}.tool_use_id`, 'a non-empty string', block.tool_use_id);
  if (block.is_error !== undefined && block.is_error !== null && typeof block.is_error !== 'boolean') c.fail(`${p}.is_error`, 'a boolean', block.is_error);
  const content = block.content;
  if (content === undefined || content === null || typeof content === 'string') return;
  if (!Array.isArray(content)) c.fail(`${p}.content`, 'a string or an array of text, image and document blocks', content);
  content.forEach((part, k) => {
    const q = `${p}.content[${k}]`;
    if (!isObject(part)) c.fail(q, 'an object', part);
    checkCacheControl(c, part.cache_control, `${q}.cache_control`);
    if (part.type === 'text') {
      if (typeof part.text !== 'string') c.fail(`${q}.text`, 'a string', part.text);
    } else if (part.type === 'image') {
      checkImageSource(c, part.source, `${q}.source`);
    } else if (part.type === 'document') {
      checkDocumentSource(c, part.source, `${q}.source`);
    } else {
      throw badRequest(`${q}.type: tool results may contain text, image and document blocks only.`, `${q}.type`);
    }
  });
}

function checkImageSource(c: Checker, source: unknown, p: string): void {
  if (!isObject(source)) c.fail(p, 'an object', source);
  if (source.type === 'base64') {
    if (typeof source.media_type !== 'string' || !source.media_type.startsWith('image/')) c.fail(`${p}.media_type`, 'an image media type', source.media_type);
    if (typeof source.data !== 'string' || source.data === '') c.fail(`${p}.data`, 'a non-empty base64 string', source.data);
  } else if (source.type === 'url') {
    if (typeof source.url !== 'string' || !/^https?:\/\//i.test(source.url)) c.fail(`${p}.url`, 'an http(s) URL', source.url);
  } else {
    throw badRequest(`${p}.type: images must be 'base64' or 'url' sources; uploaded files are not supported.`, `${p}.type`);
  }
}

function checkDocumentSource(c: Checker, source: unknown, p: string): void {
  if (!isObject(source)) c.fail(p, 'an object', source);
  if (source.type === 'base64' && source.media_type === 'application/pdf') {
    if (typeof source.data !== 'string' || source.data === '') c.fail(`${p}.data`, 'a non-empty base64 string', source.data);
  } else if (source.type === 'text') {
    if (typeof source.data !== 'string') c.fail(`${p}.data`, 'a string', source.data);
  } else {
    throw badRequest(`${p}.type: documents must be base64 PDFs or plain text; URLs, files and content blocks are not supported.`, `${p}.type`);
  }
}

function checkCacheControl(c: Checker, mark: unknown, p: string): void {
  if (mark === undefined || mark === null) return;
  if (!isObject(mark)) c.fail(p, 'an object', mark);
  if (mark.type !== 'ephemeral') throw badRequest(`${p}.type: Input should be 'ephemeral'`, `${p}.type`);
}

function checkSystem(c: Checker, system: unknown): void {
  if (system === undefined || system === null || typeof system === 'string') return;
  if (!Array.isArray(system)) c.fail('system', 'a string or an array of text blocks', system);
  system.forEach((block, i) => {
    const p = `system[${i}]`;
    if (!isObject(block)) c.fail(p, 'an object', block);
    if (block.type !== 'text') throw badRequest(`${p}.type: system blocks must be text blocks.`, `${p}.type`);
    if (typeof block.text !== 'string') c.fail(`${p}.text`, 'a string', block.text);
    checkCacheControl(c, block.cache_control, `${p}.cache_control`);
  });
}

function checkTools(c: Checker, tools: unknown): void {
  if (tools === undefined || tools === null) return;
  if (!Array.isArray(tools)) c.fail('tools', 'an array', tools);
  tools.forEach((tool, i) => {
    const p = `tools[${i}]`;
    if (!isObject(tool)) c.fail(p, 'an object', tool);
    if (typeof tool.name !== 'string' || tool.name === '') c.fail(`${p}.name`, 'a non-empty string', tool.name);
    checkCacheControl(c, tool.cache_control, `${p}.cache_control`);
    if (!isCustomTool(tool)) {
      // A server or Anthropic-defined tool: Anthropic's to check (refusedWhenTranslated where translated).
      if (typeof tool.type !== 'string') c.fail(`${p}.type`, 'a string', tool.type);
      return;
    }
    if (tool.description !== undefined && tool.description !== null && typeof tool.description !== 'string')
      c.fail(`${p}.description`, 'a string', tool.description);
    if (!isObject(tool.input_schema)) c.fail(`${p}.input_schema`, 'a JSON schema object', tool.input_schema);
  });
}

function checkToolChoice(c: Checker, choice: unknown): void {
  if (choice === undefined || choice === null) return;
  if (!isObject(choice)) c.fail('tool_choice', 'an object', choice);
  if (choice.type !== 'auto' && choice.type !== 'any' && choice.type !== 'tool' && choice.type !== 'none') {
    throw badRequest("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'", 'tool_choice.type');
  }
  if (choice.type === 'tool' && (typeof choice.name !== 'string' || choice.name === '')) c.fail('tool_choice.name', 'a non-empty string', choice.name);
  const noParallel = choice.disable_parallel_tool_use;
  if (noParallel !== undefined && noParallel !== null && typeof noParallel !== 'boolean')
    c.fail('tool_choice.disable_parallel_tool_use', 'a boolean', noParallel);
}

function checkMetadata(c: Checker, metadata: unknown): void {
  if (metadata === undefined || metadata === null) return;
  if (!isObject(metadata)) c.fail('metadata', 'an object', metadata);
  const user = metadata.user_id;
  if (user !== undefined && user !== null && typeof user !== 'string') c.fail('metadata.user_id', 'a string', user);
}

function checkThinking(c: Checker, thinking: unknown): void {
  if (thinking === undefined || thinking === null) return;
  if (!isObject(thinking)) c.fail('thinking', 'an object', thinking);
  if (thinking.type === 'disabled' || thinking.type === 'adaptive') return;
  if (thinking.type !== 'enabled') throw badRequest("thinking.type: Input should be 'enabled', 'disabled' or 'adaptive'", 'thinking.type');
  const budget = thinking.budget_tokens;
  if (typeof budget !== 'number' || !Number.isInteger(budget)) c.fail('thinking.budget_tokens', 'an integer', budget);
  if (budget < MIN_THINKING_BUDGET) {
    throw badRequest(`thinking.budget_tokens: Input should be greater than or equal to ${MIN_THINKING_BUDGET}`, 'thinking.budget_tokens');
  }
}

function checkOutputConfig(c: Checker, config: unknown): void {
  if (config === undefined || config === null) return;
  if (!isObject(config)) c.fail('output_config', 'an object', config);
  if (config.effort !== undefined && config.effort !== null && typeof config.effort !== 'string') c.fail('output_config.effort', 'a string', config.effort);
  const format = config.format;
  if (format === undefined || format === null) return;
  if (!isObject(format)) c.fail('output_config.format', 'an object', format);
  if (format.type !== 'json_schema') throw badRequest("output_config.format.type: Input should be 'json_schema'", 'output_config.format.type');
  if (!isObject(format.schema)) c.fail('output_config.format.schema', 'a JSON schema object', format.schema);
}
