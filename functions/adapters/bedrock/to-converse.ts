// OpenAI chat request → Bedrock Converse input. Converse gives every Bedrock chat model one
// request shape, so this is the provider's only request translation. Anything Converse cannot
// express is the client's 400, raised before a byte goes to AWS.
import type {
  ContentBlock,
  ConverseCommandInput,
  ImageBlock,
  InferenceConfiguration,
  Message,
  OutputConfig,
  SystemContentBlock,
  ToolConfiguration,
  ToolInputSchema,
  ToolResultContentBlock,
} from '@aws-sdk/client-bedrock-runtime';
import { badRequest } from '../../core/errors';
import type { ChatCompletionRequest, ChatMessage, ContentPart } from '../../core/chat/model';
import { parseToolArguments } from '../../core/providers/tool-arguments';

/** The SDK's JSON document type (tool schemas, tool inputs), named without importing @smithy/types. */
type Document = NonNullable<ToolInputSchema.JsonMember['json']>;

const IMAGE_FORMATS: Readonly<Record<string, ImageBlock['format']>> = { png: 'png', jpeg: 'jpeg', jpg: 'jpeg', gif: 'gif', webp: 'webp' };

export function toConverseInput(req: ChatCompletionRequest, modelId: string): ConverseCommandInput {
  if (req.n !== undefined && req.n !== null && req.n !== 1) {
    throw badRequest('Bedrock returns one choice per request; "n" must be 1.', 'n');
  }
  const system: SystemContentBlock[] = [];
  const messages: Message[] = [];
  req.messages.forEach((m, i) => {
    switch (m.role) {
      case 'system':
      case 'developer':
        // Converse has one system prompt beside the turns; every system message joins it in order.
        for (const text of systemTexts(m.content, i)) system.push({ text });
        break;
      case 'user':
        append(messages, 'user', contentBlocks(m.content, i));
        break;
      case 'assistant':
        append(messages, 'assistant', assistantBlocks(m, i));
        break;
      case 'tool':
        // Tool results are user turns in Converse; consecutive ones merge into one message.
        append(messages, 'user', [{ toolResult: { toolUseId: m.tool_call_id ?? '', content: contentBlocks(m.content, i) as ToolResultContentBlock[] } }]);
        break;
      default:
        throw badRequest(`Role "${m.role}" is not supported by Bedrock; send tool results as "tool" messages.`, `messages[${i}].role`);
    }
  });

  const input: ConverseCommandInput = { modelId, messages };
  if (system.length > 0) input.system = system;
  const inference = inferenceConfig(req);
  if (inference) input.inferenceConfig = inference;
  const tools = toolConfig(req) ?? historyToolConfig(req, messages);
  if (tools) input.toolConfig = tools;
  const output = outputConfig(req);
  if (output) input.outputConfig = output;
  return input;
}

/** Converse wants strictly alternating roles: a turn with the previous turn's role joins it. */
function append(messages: Message[], role: 'user' | 'assistant', blocks: ContentBlock[]): void {
  if (blocks.length === 0) return;
  const last = messages[messages.length - 1];
  if (last?.role === role && last.content) last.content.push(...blocks);
  else messages.push({ role, content: blocks });
}

function systemTexts(content: ChatMessage['content'], i: number): string[] {
  if (typeof content === 'string') return content === '' ? [] : [content];
  return (content ?? [])
    .map((part, j) => {
      if (part.type !== 'text') throw badRequest('System messages may hold only text parts on Bedrock.', `messages[${i}].content[${j}].type`);
      return (part as { text: string }).text;
    })
    .filter((t) => t !== '');
}

/** Text and image parts of a user or tool message. Empty text is dropped: Converse rejects blank blocks. */
function contentBlocks(content: ChatMessage['content'], i: number): ContentBlock[] {
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  const blocks: ContentBlock[] = [];
  (content ?? []).forEach((part: ContentPart, j) => {
    if (part.type === 'text') {
      const text = (part as { text: string }).text;
      if (text !== '') blocks.push({ text });
    } else if (part.type === 'image_url') {
      blocks.push({ image: imageBlock((part as { image_url: { url: string } }).image_url.url, `messages[${i}].content[${j}].image_url.url`) });
    } else {
      throw badRequest(`Content part type "${part.type}" is not supported by Bedrock.`, `messages[${i}].content[${j}].type`);
    }
  });
  return blocks;
}

function imageBlock(url: string, param: string): ImageBlock {
  const match = /^data:image\/([\w.+-]+);base64,(.*)$/s.exec(url);
  if (!match) {
    throw badRequest('Bedrock Converse needs the image bytes: send the image as a base64 data URL (data:image/png;base64,...); it does not fetch URLs.', param);
  }
  const format = IMAGE_FORMATS[(match[1] ?? '').toLowerCase()];
  if (!format) throw badRequest(`Bedrock accepts png, jpeg, gif and webp images, not image/${match[1]}.`, param);
  return { format, source: { bytes: Buffer.from(match[2] ?? '', 'base64') } };
}

function assistantBlocks(m: ChatMessage, i: number): ContentBlock[] {
  const blocks: ContentBlock[] = [];
  if (typeof m.content === 'string') {
    if (m.content !== '') blocks.push({ text: m.content });
  } else {
    (m.content ?? []).forEach((part, j) => {
      // Assistant history may carry text and refusal parts; both are things the model said.
      const text =
        part.type === 'text' ? (part as { text: string }).text : part.type === 'refusal' ? String((part as { refusal?: unknown }).refusal ?? '') : undefined;
      if (text === undefined)
        throw badRequest(`Content part type "${part.type}" is not supported in assistant messages on Bedrock.`, `messages[${i}].content[${j}].type`);
      if (text !== '') blocks.push({ text });
    });
  }
  (m.tool_calls ?? []).forEach((call, k) => {
    blocks.push({
      toolUse: {
        toolUseId: call.id,
        name: call.function.name,
        input: parseToolArguments(call.function.arguments, `messages[${i}].tool_calls[${k}].function.arguments`) as Document,
      },
    });
  });
  return blocks;
}

function inferenceConfig(req: ChatCompletionRequest): InferenceConfiguration | undefined {
  const config: InferenceConfiguration = {};
  const maxTokens = req.max_completion_tokens ?? req.max_tokens;
  if (maxTokens !== undefined && maxTokens !== null) config.maxTokens = maxTokens;
  if (req.temperature !== undefined && req.temperature !== null) config.temperature = req.temperature;
  if (req.top_p !== undefined && req.top_p !== null) config.topP = req.top_p;
  if (typeof req.stop === 'string') config.stopSequences = [req.stop];
  else if (Array.isArray(req.stop) && req.stop.length > 0) config.stopSequences = req.stop;
  return Object.keys(config).length > 0 ? config : undefined;
}

function toolConfig(req: ChatCompletionRequest): ToolConfiguration | undefined {
  if (!req.tools || req.tools.length === 0 || req.tool_choice === 'none') return undefined;
  const config: ToolConfiguration = {
    tools: req.tools.map((t) => ({
      toolSpec: {
        name: t.function.name,
        ...(t.function.description !== undefined ? { description: t.function.description } : {}),
        // OpenAI lets a function omit its parameters; Converse wants a schema, so: no arguments.
        inputSchema: { json: (t.function.parameters ?? { type: 'object', properties: {} }) as Document },
      },
    })),
  };
  const choice = req.tool_choice;
  if (choice === 'auto') config.toolChoice = { auto: {} };
  else if (choice === 'required') config.toolChoice = { any: {} };
  else if (typeof choice === 'object' && choice !== null) {
    const name = (choice as { function?: { name?: unknown } }).function?.name;
    if (typeof name !== 'string' || name === '')
      throw badRequest('tool_choice must be "auto", "required", "none" or {"type": "function", "function": {"name": ...}}.', 'tool_choice');
    config.toolChoice = { tool: { name } };
  } else if (choice !== undefined && choice !== null) {
    throw badRequest('tool_choice must be "auto", "required", "none" or {"type": "function", "function": {"name": ...}}.', 'tool_choice');
  }
  return config;
}

/**
 * Converse refuses a conversation holding toolUse/toolResult blocks unless toolConfig is present,
 * yet OpenAI clients often drop `tools` (or send tool_choice "none") once the tools have run.
 * Then the tools are declared from what the history used: the request's own definitions when
 * given, otherwise a permissive schema per tool name, so the conversation goes through unchanged.
 */
function historyToolConfig(req: ChatCompletionRequest, messages: Message[]): ToolConfiguration | undefined {
  const used = new Set<string>();
  for (const m of messages) for (const block of m.content ?? []) if (block.toolUse?.name) used.add(block.toolUse.name);
  const hasResults = messages.some((m) => m.content?.some((b) => b.toolResult !== undefined));
  if (used.size === 0 && !hasResults) return undefined;
  const declared = new Map((req.tools ?? []).map((t) => [t.function.name, t]));
  const names = used.size > 0 ? [...used] : [...declared.keys()];
  if (names.length === 0) return undefined;
  return {
    tools: names.map((name) => ({
      toolSpec: {
        name,
        ...(declared.get(name)?.function.description !== undefined ? { description: declared.get(name)?.function.description } : {}),
        inputSchema: { json: (declared.get(name)?.function.parameters ?? { type: 'object' }) as Document },
      },
    })),
  };
}

/** json_schema → Converse structured output (on the models that support it; Bedrock says if not). */
function outputConfig(req: ChatCompletionRequest): OutputConfig | undefined {
  const format = req.response_format;
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object') {
    throw badRequest('Bedrock has no JSON mode without a schema; use response_format {"type": "json_schema", ...}.', 'response_format.type');
  }
  const { name, schema } = format.json_schema;
  return { textFormat: { type: 'json_schema', structure: { jsonSchema: { name, schema: JSON.stringify(schema ?? {}) } } } };
}
