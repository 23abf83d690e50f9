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

/**
 * Rebuilds a completion from the chunks of a stream, so a streamed answer can be cached and
 * replayed to sync and streaming clients alike. Used only for cacheable requests.
 */
export class StreamAssembler {
  private completion: ChatCompletion | undefined;

  add(chunkJson: string): void {
    const chunk = JSON.parse(chunkJson) as ChatCompletionChunk;
    const c = (this.completion ??= {
      id: chunk.id,
      object: 'chat.completion',
      created: chunk.created,
      model: chunk.model,
      choices: [],
      system_fingerprint: chunk.system_fingerprint,
    });
    if (chunk.usage) c.usage = chunk.usage;
    for (const part of chunk.choices ?? []) {
      let choice = c.choices.find((x) => x.index === part.index);
      if (!choice) {
        choice = { index: part.index, message: { role: 'assistant', content: null }, finish_reason: null };
        c.choices.push(choice);
      }
      const { content, tool_calls: calls } = part.delta;
      if (typeof content === 'string') choice.message.content = (choice.message.content ?? '') + content;
      for (const call of calls ?? []) {
        const list = (choice.message.tool_calls ??= []);
        const existing = list[call.index];
        if (!existing)
          list[call.index] = { id: call.id ?? '', type: 'function', function: { name: call.function?.name ?? '', arguments: call.function?.arguments ?? '' } };
        else existing.function.arguments += call.function?.arguments ?? '';
      }
      if (part.finish_reason) choice.finish_reason = part.finish_reason;
    }
  }

  /** The assembled completion, or undefined if the stream had no complete choice. */
  result(): ChatCompletion | undefined {
    const c = this.completion;
    if (!c || c.choices.length === 0 || c.choices.some((x) => x.finish_reason === null)) return undefined;
    return c;
  }
}
