// The Anthropic Messages API's wire shapes as this ingress reads and writes them, beyond the ones
// the Anthropic provider already types (core/providers/anthropic/types.ts): what a client may send
// that the gateway's own upstream requests never carry, and the answer and stream events it writes.
import type { AnthropicToolChoice } from '../../providers/anthropic/types';

/** A request block's prompt-cache mark; accepted on any block and left out in translation. */
export interface CacheControl {
  type: 'ephemeral';
  ttl?: string;
}

/** `thinking` of a request: extended thinking on (with its token budget), off, or left to the model. */
export type ThinkingConfig = { type: 'enabled'; budget_tokens: number } | { type: 'disabled' } | { type: 'adaptive' };

/** A request `readMessagesRequest` accepted: only the fields it checked are typed. */
export interface MessagesRequest {
  model: string;
  max_tokens: number;
  messages: Array<{ role: 'user' | 'assistant'; content: string | Array<Record<string, unknown>> }>;
  system?: string | Array<{ type: 'text'; text: string; cache_control?: CacheControl | null }>;
  tools?: Array<Record<string, unknown>>;
  tool_choice?: AnthropicToolChoice;
  stop_sequences?: string[];
  temperature?: number;
  top_p?: number;
  top_k?: number;
  metadata?: { user_id?: string | null };
  thinking?: ThinkingConfig;
  output_config?: { effort?: string | null; format?: { type: 'json_schema'; schema: Record<string, unknown> } | null };
  stream?: boolean;
}

// ---- answers ------------------------------------------------------------------------------

export type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'refusal' | 'pause_turn';

export interface MessagesUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export type ContentBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

/** The `message` object: a whole answer's body, and the payload of the stream's `message_start`. */
export interface MessageObject {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: ContentBlock[];
  stop_reason: StopReason | null;
  stop_sequence: string | null;
  usage: MessagesUsage;
  x_gateway?: Record<string, unknown>;
}
