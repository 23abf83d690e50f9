// How the OpenAI ingress frames a stream: provider chunks pass through byte for byte, only the
// final chunk (the last finish_reason chunk, or the usage chunk for a client that asked) is held
// back to carry x_gateway, and a stream that never said why it stopped gets a finish chunk.
import type { StreamChunk, Usage } from '../../functions/core/chat/model';
import { GatewayError } from '../../functions/core/errors';
import { OpenAiStreamWriter, SSE_DONE } from '../../functions/core/ingress/openai-chat/stream-writer';
import { readFixture, splitSse } from '../fakes/fixtures';

const HEAD = { id: 'chatcmpl-1', created: 1700000000, model: 'gpt-4o' };
const META = { provider: 'openai' };

/** The recorded n=3 stream's chunks, as the OpenAI provider hands them over. */
function recordedN3(): StreamChunk[] {
  return splitSse(readFixture('openai/chat-stream-n3.sse.txt'))
    .map((e) => e.replace(/^data: /, '').trim())
    .filter((d) => d !== '[DONE]')
    .map((json) => {
      const parsed = JSON.parse(json) as { choices: unknown[]; usage?: Usage | null };
      return parsed.usage ? { json, usage: parsed.usage, usageOnly: parsed.choices.length === 0 } : { json };
    });
}

/** Every event's data, in order, from what the writer wrote. */
function written(writer: OpenAiStreamWriter, chunks: StreamChunk[], usage?: Usage): string[] {
  const text = chunks.map((c) => writer.chunk(c)).join('') + writer.end(usage, META);
  return splitSse(text).map((e) => e.replace(/^data: /, '').trim());
}

const chunkJson = (delta: Record<string, unknown>, finish: string | null): string =>
  JSON.stringify({ ...HEAD, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] });

describe('OpenAiStreamWriter', () => {
  test('n=3 without include_usage: every chunk passes through unchanged; x_gateway rides on the last finish chunk', () => {
    const chunks = recordedN3();
    const events = written(new OpenAiStreamWriter(HEAD, false), chunks, chunks.at(-1)?.usage);
    const withChoices = chunks.filter((c) => !c.usageOnly).map((c) => c.json);
    expect(events.at(-1)).toBe('[DONE]');
    expect(events.slice(0, -2)).toEqual(withChoices.slice(0, -1));
    const last = JSON.parse(events.at(-2) as string) as { x_gateway: unknown; choices: Array<{ finish_reason: string }> };
    expect(last).toEqual({ ...JSON.parse(withChoices.at(-1) as string), x_gateway: META });
    expect(last.choices[0]?.finish_reason).toBe('stop');
  });

  test('n=3 with include_usage: the finish chunks pass unchanged and the usage chunk, with x_gateway, is last', () => {
    const chunks = recordedN3();
    const usageChunk = chunks.at(-1) as StreamChunk;
    expect(usageChunk.usageOnly).toBe(true);
    const events = written(new OpenAiStreamWriter(HEAD, true), chunks, usageChunk.usage);
    expect(events.slice(0, -2)).toEqual(chunks.slice(0, -1).map((c) => c.json));
    expect(JSON.parse(events.at(-2) as string)).toEqual({ ...JSON.parse(usageChunk.json), x_gateway: META });
    expect(events.at(-1)).toBe('[DONE]');
  });

  test('text that quotes "finish_reason" inside content is not taken for a finish', () => {
    const writer = new OpenAiStreamWriter(HEAD, false);
    const quoting = chunkJson({ content: '{"finish_reason":"stop"}' }, null);
    expect(writer.chunk({ json: quoting })).toBe(`data: ${quoting}\n\n`);
  });

  test('a stream without a finish chunk ends with one; with include_usage and usage known, a usage chunk follows', () => {
    const content = { json: chunkJson({ role: 'assistant', content: 'Hi' }, null) };
    const plain = written(new OpenAiStreamWriter(HEAD, false), [content]);
    expect(JSON.parse(plain.at(-2) as string)).toMatchObject({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], x_gateway: META });
    const usage: Usage = { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 };
    const counted = written(new OpenAiStreamWriter(HEAD, true), [content], usage);
    expect(JSON.parse(counted.at(-3) as string)).toMatchObject({ choices: [{ finish_reason: 'stop' }] });
    expect(JSON.parse(counted.at(-2) as string)).toEqual({ ...HEAD, object: 'chat.completion.chunk', choices: [], usage, x_gateway: META });
  });

  test('a stream failing after its finish chunk still delivers that chunk before the error event', () => {
    const writer = new OpenAiStreamWriter(HEAD, false);
    const finish = chunkJson({}, 'stop');
    expect(writer.chunk({ json: finish })).toBe('');
    const text = writer.error(new GatewayError(502, 'openai failed mid-stream.', { code: 'upstream_error' }));
    expect(splitSse(text).map((e) => e.replace(/^data: /, '').trim())).toEqual([finish, expect.stringContaining('upstream_error')]);
    expect(text).not.toContain(SSE_DONE);
  });
});
