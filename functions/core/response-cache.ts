// What may be cached and under which key, and replaying a cached completion as a stream.
import { createHash } from 'node:crypto';
import { badRequest } from './errors';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from './openai-types';

/**
 * TTL for this request in seconds (0 = do not cache). X-Cache-TTL decides when present;
 * otherwise only deterministic requests (temperature 0) are cached, for the default TTL.
 */
export function cacheTtl(request: ChatCompletionRequest, header: string | undefined, defaultTtl: number): number {
  if (header !== undefined) {
    const ttl = Number(header);
    if (!/^\d+$/.test(header.trim()) || !Number.isSafeInteger(ttl)) {
      throw badRequest(`Invalid X-Cache-TTL header: expected a whole number of seconds, got "${header}".`, 'X-Cache-TTL', 'invalid_value');
    }
    return ttl;
  }
  return request.temperature === 0 ? defaultTtl : 0;
}

/** Exact-match key over tenant + model + messages + every parameter except how it is delivered. */
export function cacheKey(tenantId: string, request: ChatCompletionRequest): string {
  const { stream: _stream, stream_options: _options, ...rest } = request;
  return createHash('sha256').update(tenantId).update('\0').update(JSON.stringify(rest)).digest('hex');
}

/** Turns a stored completion back into the chunks a streaming client expects. */
export function completionToChunks(c: ChatCompletion): ChatCompletionChunk[] {
  const base = { id: c.id, object: 'chat.completion.chunk' as const, created: c.created, model: c.model, system_fingerprint: c.system_fingerprint };
  const chunks: ChatCompletionChunk[] = [];
  for (const choice of c.choices) {
    const delta: ChatCompletionChunk['choices'][number]['delta'] = { role: 'assistant', content: choice.message.content ?? '' };
    if (choice.message.tool_calls) delta.tool_calls = choice.message.tool_calls.map((t, index) => ({ index, ...t }));
    chunks.push({ ...base, choices: [{ index: choice.index, delta, finish_reason: null }] });
    chunks.push({ ...base, choices: [{ index: choice.index, delta: {}, finish_reason: choice.finish_reason }] });
  }
  return chunks;
}
