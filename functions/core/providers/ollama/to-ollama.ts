// OpenAI chat request → Ollama /api/chat body.
import type { ChatCompletionRequest, ChatMessage, ContentPart } from '../../chat/model';
import { badRequest } from '../../errors';
import { parseToolArguments } from '../tool-arguments';
import type { OllamaChatRequest, OllamaMessage } from './types';

/** Translates an OpenAI chat request into Ollama's /api/chat body. */
export function toOllamaRequest(req: ChatCompletionRequest, model: string): OllamaChatRequest {
  if (req.n !== undefined && req.n !== null && req.n !== 1) {
    throw badRequest('Ollama returns one choice per request; "n" must be 1.', 'n');
  }
  const toolNames = new Map<string, string>();
  const messages = req.messages.map((m, i) => toOllamaMessage(m, i, toolNames));
  const out: OllamaChatRequest = { model, messages, stream: req.stream === true };
  if (req.tools && req.tools.length > 0 && req.tool_choice !== 'none') out.tools = req.tools;
  const fmt = req.response_format;
  if (fmt?.type === 'json_object') out.format = 'json';
  else if (fmt?.type === 'json_schema') out.format = fmt.json_schema.schema ?? {};

  const options: Record<string, unknown> = {};
  const copy = (from: keyof ChatCompletionRequest, to: string): void => {
    const v = req[from];
    if (v !== undefined && v !== null) options[to] = v;
  };
  copy('temperature', 'temperature');
  copy('top_p', 'top_p');
  copy('top_k', 'top_k');
  copy('seed', 'seed');
  copy('presence_penalty', 'presence_penalty');
  copy('frequency_penalty', 'frequency_penalty');
  const maxTokens = req.max_completion_tokens ?? req.max_tokens;
  if (maxTokens !== undefined && maxTokens !== null) options.num_predict = maxTokens;
  if (req.stop !== undefined && req.stop !== null) options.stop = Array.isArray(req.stop) ? req.stop : [req.stop];
  if (Object.keys(options).length > 0) out.options = options;
  return out;
}

function toOllamaMessage(m: ChatMessage, index: number, toolNames: Map<string, string>): OllamaMessage {
  const role = m.role === 'developer' ? 'system' : m.role;
  const { text, images } = flattenContent(m.content, index);
  const out: OllamaMessage = { role, content: text };
  if (images.length > 0) out.images = images;
  if (m.role === 'assistant' && m.tool_calls?.length) {
    out.tool_calls = m.tool_calls.map((call, j) => {
      toolNames.set(call.id, call.function.name);
      return {
        function: {
          name: call.function.name,
          arguments: parseToolArguments(call.function.arguments, `messages[${index}].tool_calls[${j}].function.arguments`),
        },
      };
    });
  }
  if (m.role === 'tool' && m.tool_call_id) {
    const name = toolNames.get(m.tool_call_id);
    if (name) out.tool_name = name;
  }
  return out;
}

function flattenContent(content: ChatMessage['content'], index: number): { text: string; images: string[] } {
  if (typeof content === 'string') return { text: content, images: [] };
  if (!content) return { text: '', images: [] };
  const texts: string[] = [];
  const images: string[] = [];
  content.forEach((part: ContentPart, j) => {
    if (part.type === 'text') texts.push((part as { text: string }).text);
    else if (part.type === 'image_url') {
      const url = (part as { image_url: { url: string } }).image_url.url;
      const match = /^data:[^;,]+;base64,(.*)$/s.exec(url);
      if (!match) {
        throw badRequest('Ollama accepts images only as base64 data URLs (data:image/...;base64,...).', `messages[${index}].content[${j}].image_url.url`);
      }
      images.push(match[1] ?? '');
    } else {
      throw badRequest(`Content part type "${part.type}" is not supported by Ollama.`, `messages[${index}].content[${j}].type`);
    }
  });
  return { text: texts.join('\n'), images };
}
