// functions/core/chat — the canonical chat model, the one request and answer shape between the
// client APIs and the providers. A client API's wire format belongs in ingress/, an upstream's in
// providers/.
//
// The canonical chat model: the request every client API is read into, and the completion and
// stream events every provider translates to. It deliberately follows OpenAI chat completions'
// shapes and names, so the OpenAI ingress and OpenAI-compatible upstreams pass bytes through
// unparsed; any other client API (an ingress adapter) or upstream (a provider) translates.
// Only the fields the gateway reads or writes are typed; everything else passes through untouched.

export type Role = 'system' | 'developer' | 'user' | 'assistant' | 'tool';

export interface TextPart {
  type: 'text';
  text: string;
}

export interface ImagePart {
  type: 'image_url';
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
}

export type ContentPart = TextPart | ImagePart | { type: string; [key: string]: unknown };

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ChatMessage {
  role: Role;
  content?: string | ContentPart[] | null;
  name?: string;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
  [key: string]: unknown;
}

export interface ToolDefinition {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
}

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; json_schema: { name: string; schema?: Record<string, unknown>; strict?: boolean } };

export interface ChatCompletionRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  temperature?: number | null;
  top_p?: number | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  stop?: string | string[] | null;
  seed?: number | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  n?: number | null;
  tools?: ToolDefinition[];
  tool_choice?: unknown;
  response_format?: ResponseFormat;
  [key: string]: unknown;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** `cache_creation_tokens` is the gateway's name for prompt-cache writes (Anthropic, Bedrock). */
  prompt_tokens_details?: { cached_tokens?: number; cache_creation_tokens?: number; [key: string]: unknown };
  completion_tokens_details?: { reasoning_tokens?: number; [key: string]: unknown };
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: { role: 'assistant'; content: string | null; tool_calls?: ToolCall[]; refusal?: string | null; [key: string]: unknown };
    finish_reason: FinishReason | null;
    logprobs?: unknown;
  }>;
  usage?: Usage;
  system_fingerprint?: string;
  [key: string]: unknown;
}

export interface ChunkToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    delta: { role?: 'assistant'; content?: string | null; tool_calls?: ChunkToolCallDelta[]; [key: string]: unknown };
    finish_reason: FinishReason | null;
    logprobs?: unknown;
  }>;
  usage?: Usage | null;
  system_fingerprint?: string;
  [key: string]: unknown;
}

/** What a provider's chat call resolves to when the client asked for one whole answer. */
export interface SyncResult {
  kind: 'json';
  completion: ChatCompletion;
  /**
   * The exact canonical (OpenAI-shaped) JSON bytes, when the provider already speaks that format;
   * the OpenAI ingress then splices its metadata into them instead of re-encoding the whole object.
   */
  raw?: string;
}

/** One canonical stream event (a `chat.completion.chunk`), already serialised, plus what the gateway must know of it. */
export interface StreamChunk {
  /** The chunk's JSON text; the OpenAI ingress writes it to the client as `data: <json>\n\n`. */
  json: string;
  /** Set on the chunk that carries final token usage. */
  usage?: Usage;
  /** True for the usage-only chunk (`choices: []`) that an OpenAI client gets only if it asked. */
  usageOnly?: boolean;
}

/** What a provider's chat call resolves to when the client asked for a stream. */
export interface StreamResult {
  kind: 'stream';
  /** Upstream model name as reported in the first chunk (or the requested one). */
  model: string;
  id: string;
  created: number;
  /** Chunks as they arrive; throws a GatewayError if the upstream fails mid-stream. */
  chunks: AsyncIterable<StreamChunk>;
}
