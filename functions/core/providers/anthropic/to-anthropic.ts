// OpenAI chat-completions request → Anthropic Messages request.
//
// Decisions (documented here because clients cannot see them otherwise):
// - max_tokens is required by Anthropic; when the client sets neither max_completion_tokens nor
//   max_tokens the gateway sends DEFAULT_MAX_TOKENS (4096), the largest value every Claude model
//   in the catalog accepts (Claude 3 Haiku/Opus cap output at 4096).
// - temperature: OpenAI allows 0..2, Anthropic 0..1. Values are clamped, not scaled: the shared
//   0..1 range keeps its meaning (0.7 stays 0.7, as users tuned it), anything above 1 becomes 1,
//   Anthropic's most random setting.
// - response_format json_schema → Anthropic's native structured outputs (`output_config.format`);
//   json_object has no native equivalent and becomes a system instruction to answer with one
//   JSON object; text → nothing.
// - Fields without an Anthropic equivalent that only hint at sampling (seed, presence_penalty,
//   frequency_penalty, logit_bias, service_tier, store, metadata, reasoning_effort) are dropped;
//   ones whose answer the client would rely on are refused: n > 1 and logprobs.
import { badRequest } from '../../errors';
import type { ChatCompletionRequest, ChatMessage, ContentPart, ToolDefinition } from '../../chat/model';
import type {
  AnthropicDocumentBlock,
  AnthropicImageBlock,
  AnthropicMessage,
  AnthropicRequest,
  AnthropicRequestBlock,
  AnthropicTextBlock,
  AnthropicTool,
  AnthropicToolChoice,
  AnthropicToolResultBlock,
} from './types';
import { parseToolArguments } from '../tool-arguments';

export const DEFAULT_MAX_TOKENS = 4096;

export const JSON_OBJECT_INSTRUCTION = 'Respond with a single valid JSON object and nothing else: no prose, no Markdown code fences.';

/** Translates an OpenAI chat request into the body of POST /v1/messages. */
export function toAnthropicRequest(req: ChatCompletionRequest, model: string): AnthropicRequest {
  if (req.n !== undefined && req.n !== null && req.n !== 1) {
    throw badRequest('Anthropic returns one choice per request; "n" must be 1.', 'n');
  }
  if (req.logprobs === true || (typeof req.top_logprobs === 'number' && req.top_logprobs > 0)) {
    throw badRequest('Anthropic does not return log probabilities; "logprobs" is not supported for Anthropic models.', 'logprobs');
  }

  const system: AnthropicTextBlock[] = [];
  const messages: AnthropicMessage[] = [];
  req.messages.forEach((m, i) => {
    if (m.role === 'system' || m.role === 'developer') {
      system.push(...systemBlocks(m, i));
      return;
    }
    const translated = toAnthropicMessage(m, i);
    if (translated) pushMerged(messages, translated);
  });

  const out: AnthropicRequest = { model, max_tokens: req.max_completion_tokens ?? req.max_tokens ?? DEFAULT_MAX_TOKENS, messages };

  const format = req.response_format;
  if (format?.type === 'json_object') system.push({ type: 'text', text: JSON_OBJECT_INSTRUCTION });
  else if (format?.type === 'json_schema') {
    out.output_config = { format: { type: 'json_schema', schema: format.json_schema.schema ?? { type: 'object' } } };
  }
  if (system.length > 0) out.system = system;

  if (req.stop !== undefined && req.stop !== null) {
    const stops = (Array.isArray(req.stop) ? req.stop : [req.stop]).filter((s) => s !== '');
    if (stops.length > 0) out.stop_sequences = stops;
  }
  if (typeof req.temperature === 'number') out.temperature = Math.min(1, Math.max(0, req.temperature));
  if (typeof req.top_p === 'number') out.top_p = req.top_p;

  if (req.tools && req.tools.length > 0) {
    out.tools = req.tools.map(toAnthropicTool);
    const choice = toAnthropicToolChoice(req.tool_choice, req.parallel_tool_calls === false);
    if (choice) out.tool_choice = choice;
  } else {
    // Anthropic refuses tool_use blocks in a conversation that defines no tools, yet OpenAI
    // clients often drop `tools` once the tools have run: declare the ones the history used,
    // and forbid new calls, since the client offered none.
    const used = [
      ...new Set(messages.flatMap((m) => (typeof m.content === 'string' ? [] : m.content).flatMap((b) => (b.type === 'tool_use' ? [b.name] : [])))),
    ];
    if (used.length > 0) {
      out.tools = used.map((name) => ({ name, input_schema: { type: 'object' } }));
      out.tool_choice = { type: 'none' };
    }
  }
  if (typeof req.user === 'string' && req.user !== '') out.metadata = { user_id: req.user };
  if (req.stream === true) out.stream = true;
  return out;
}

// ---- messages -----------------------------------------------------------------------------

function systemBlocks(m: ChatMessage, index: number): AnthropicTextBlock[] {
  if (typeof m.content === 'string') return m.content === '' ? [] : [{ type: 'text', text: m.content }];
  return (m.content ?? [])
    .map((part, j) => {
      if (part.type !== 'text') throw badRequest(`System messages may contain only text parts, not "${part.type}".`, `messages[${index}].content[${j}].type`);
      return { type: 'text' as const, text: (part as { text: string }).text };
    })
    .filter((b) => b.text !== '');
}

/** One OpenAI message as an Anthropic turn, or undefined when nothing of it remains to send. */
function toAnthropicMessage(m: ChatMessage, index: number): AnthropicMessage | undefined {
  if (m.role === 'tool') {
    const block: AnthropicToolResultBlock = { type: 'tool_result', tool_use_id: toolUseId(m.tool_call_id ?? '') };
    const content = typeof m.content === 'string' ? m.content : toolResultContent(m.content ?? [], index);
    // An empty result is sent without content: Anthropic rejects empty text.
    if (content.length > 0) block.content = content;
    return { role: 'user', content: [block] };
  }
  if (m.role === 'user') {
    // A plain string stays a string (as in the recorded requests); parts become blocks.
    if (typeof m.content === 'string') return m.content === '' ? undefined : { role: 'user', content: m.content };
    const blocks = contentBlocks(m.content ?? [], index);
    return blocks.length > 0 ? { role: 'user', content: blocks } : undefined;
  }
  if (m.role === 'assistant') {
    const blocks: AnthropicRequestBlock[] =
      typeof m.content === 'string' ? (m.content === '' ? [] : [{ type: 'text', text: m.content }]) : contentBlocks(m.content ?? [], index, true);
    (m.tool_calls ?? []).forEach((call, j) => {
      blocks.push({
        type: 'tool_use',
        id: toolUseId(call.id),
        name: call.function.name,
        input: parseToolArguments(call.function.arguments, `messages[${index}].tool_calls[${j}].function.arguments`),
      });
    });
    if (blocks.length === 0) return undefined;
    // A text-only assistant turn keeps the compact string form.
    const only = blocks[0];
    if (blocks.length === 1 && only?.type === 'text') return { role: 'assistant', content: only.text };
    return { role: 'assistant', content: blocks };
  }
  // The legacy "function" role has no tool_call_id to pair with a tool_use block.
  throw badRequest(
    `Messages with role "${m.role}" are not supported for Anthropic models; use "tool" messages with a tool_call_id.`,
    `messages[${index}].role`,
  );
}

/**
 * Appends a turn, merging it into the previous one when both have the same role: Anthropic wants
 * user and assistant to alternate, and several tool results (parallel tool calls) must arrive
 * together in one user turn. Tool results come first in a turn, as Anthropic requires, because
 * OpenAI sends the tool messages before any following user message.
 */
function pushMerged(messages: AnthropicMessage[], next: AnthropicMessage): void {
  const prev = messages[messages.length - 1];
  if (!prev || prev.role !== next.role) {
    messages.push(next);
    return;
  }
  prev.content = [...asBlocks(prev.content), ...asBlocks(next.content)];
}

const asBlocks = (content: AnthropicMessage['content']): AnthropicRequestBlock[] => (typeof content === 'string' ? [{ type: 'text', text: content }] : content);

function contentBlocks(parts: ContentPart[], index: number, assistant = false): AnthropicRequestBlock[] {
  const blocks: AnthropicRequestBlock[] = [];
  parts.forEach((part, j) => {
    const param = `messages[${index}].content[${j}]`;
    if (part.type === 'text') {
      const text = (part as { text: string }).text;
      if (text !== '') blocks.push({ type: 'text', text }); // Anthropic rejects empty text blocks
    } else if (part.type === 'refusal' && assistant) {
      const refusal = (part as { refusal?: unknown }).refusal;
      const text = typeof refusal === 'string' ? refusal : '';
      if (text !== '') blocks.push({ type: 'text', text });
    } else if (part.type === 'image_url' && !assistant) {
      blocks.push(imageBlock((part as { image_url: { url: string } }).image_url.url, `${param}.image_url.url`));
    } else if (part.type === 'file' && !assistant) {
      blocks.push(documentBlock((part as { file?: unknown }).file, `${param}.file`));
    } else {
      throw badRequest(`Content part type "${part.type}" is not supported for Anthropic ${assistant ? 'assistant' : 'user'} messages.`, `${param}.type`);
    }
  });
  return blocks;
}

function toolResultContent(parts: ContentPart[], index: number): Array<AnthropicTextBlock | AnthropicImageBlock> {
  parts.forEach((part, j) => {
    if (part.type !== 'text' && part.type !== 'image_url') {
      throw badRequest('Tool results may contain only text and images for Anthropic models.', `messages[${index}].content[${j}].type`);
    }
  });
  return contentBlocks(parts, index) as Array<AnthropicTextBlock | AnthropicImageBlock>;
}

const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;

function imageBlock(url: string, param: string): AnthropicImageBlock {
  const data = DATA_URL.exec(url);
  if (data) return { type: 'image', source: { type: 'base64', media_type: data[1] ?? '', data: data[2] ?? '' } };
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  throw badRequest('Images must be base64 data URLs (data:image/png;base64,...) or http(s) URLs.', param);
}

/** OpenAI `file` parts carrying an inline PDF become Anthropic document blocks. */
function documentBlock(file: unknown, param: string): AnthropicDocumentBlock {
  const f = (typeof file === 'object' && file !== null ? file : {}) as { file_data?: unknown; filename?: unknown };
  const data = typeof f.file_data === 'string' ? DATA_URL.exec(f.file_data) : null;
  if (!data || data[1] !== 'application/pdf') {
    throw badRequest(
      'Files must be inline PDFs (file_data: "data:application/pdf;base64,...") for Anthropic models; file ids are not supported.',
      `${param}.file_data`,
    );
  }
  const block: AnthropicDocumentBlock = { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: data[2] ?? '' } };
  if (typeof f.filename === 'string' && f.filename !== '') block.title = f.filename;
  return block;
}

/** Anthropic tool_use ids allow only [A-Za-z0-9_-]; ids minted elsewhere (another provider) are made safe the same way on both sides. */
function toolUseId(id: string): string {
  const safe = id.replace(/[^A-Za-z0-9_-]/g, '_');
  return safe === '' ? 'toolu_missing' : safe;
}

// ---- tools --------------------------------------------------------------------------------

function toAnthropicTool(t: ToolDefinition): AnthropicTool {
  const tool: AnthropicTool = { name: t.function.name, input_schema: t.function.parameters ?? { type: 'object', properties: {} } };
  if (t.function.description !== undefined) tool.description = t.function.description;
  return tool;
}

function toAnthropicToolChoice(choice: unknown, noParallel: boolean): AnthropicToolChoice | undefined {
  // disable_parallel_tool_use lives on tool_choice, so parallel_tool_calls:false alone needs an explicit "auto".
  const parallel = noParallel ? { disable_parallel_tool_use: true } : {};
  if (choice === undefined || choice === null) return noParallel ? { type: 'auto', ...parallel } : undefined;
  if (choice === 'auto') return { type: 'auto', ...parallel };
  if (choice === 'required') return { type: 'any', ...parallel };
  // Tools stay defined with "none": Anthropic needs them to read tool_use blocks in the history.
  if (choice === 'none') return { type: 'none' };
  if (typeof choice === 'object') {
    const c = choice as { type?: unknown; function?: { name?: unknown } };
    if (c.type === 'function' && typeof c.function?.name === 'string') return { type: 'tool', name: c.function.name, ...parallel };
  }
  throw badRequest('tool_choice must be "auto", "required", "none" or {"type": "function", "function": {"name": ...}}.', 'tool_choice');
}
