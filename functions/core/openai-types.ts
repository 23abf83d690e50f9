// The OpenAI wire shapes the gateway speaks to its clients. Its chat shapes are the canonical
// chat model's (chat/model.ts), which follows OpenAI chat completions on purpose; they are named
// here too for code that speaks the OpenAI wire. Only the fields the gateway reads or writes are
// typed; everything else passes through untouched.

export type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  ChatMessage,
  ChunkToolCallDelta,
  ContentPart,
  FinishReason,
  ImagePart,
  ResponseFormat,
  Role,
  TextPart,
  ToolCall,
  ToolDefinition,
  Usage,
} from './chat/model';

export interface ModelObject {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  [key: string]: unknown;
}

export interface EmbeddingsRequest {
  model: string;
  input: string | string[] | number[] | number[][];
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
  [key: string]: unknown;
}

export interface EmbeddingsResponse {
  object: 'list';
  data: Array<{ object: 'embedding'; index: number; embedding: number[] | string }>;
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
  [key: string]: unknown;
}

export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}
