// Ollama's native /api/chat shapes (docs/api.md), as the gateway reads and writes them.

export interface OllamaToolCall {
  function: { name: string; arguments: Record<string, unknown>; index?: number };
  id?: string;
}

export interface OllamaMessage {
  role: string;
  content: string;
  images?: string[];
  tool_calls?: OllamaToolCall[];
  tool_name?: string;
  thinking?: string;
}

export interface OllamaChatRequest {
  model: string;
  messages: OllamaMessage[];
  stream: boolean;
  tools?: unknown[];
  format?: 'json' | Record<string, unknown>;
  options?: Record<string, unknown>;
}

export interface OllamaChatResponse {
  model: string;
  created_at: string;
  message?: OllamaMessage;
  done: boolean;
  done_reason?: string;
  prompt_eval_count?: number;
  eval_count?: number;
  error?: string;
}

export interface OllamaTags {
  models?: Array<{ name: string; modified_at?: string }>;
}
