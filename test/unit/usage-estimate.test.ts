// The estimate of a stream's usage when the provider's count never arrived: the generated text
// found in the chunks (≈ 4 characters per token) and the prompt from the body's size.
import { StreamTally } from '../../functions/core/usage-estimate';

const chunk = (delta: Record<string, unknown>): string => JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model: 'm', choices: [{ index: 0, delta, finish_reason: null }] });

describe('StreamTally', () => {
  test('counts content, refusal, reasoning and tool arguments; the prompt from the body size', () => {
    const t = new StreamTally(401);
    t.add(chunk({ role: 'assistant', content: '' }));
    t.add(chunk({ content: 'Hello, world' })); // 12
    t.add(chunk({ refusal: 'no' })); // 2
    t.add(chunk({ reasoning_content: 'hmm.' })); // 4
    t.add(chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":' } }] })); // 8 (escaped: 10)
    t.add(JSON.stringify({ id: 'c', choices: [], usage: null }));
    expect(t.usage()).toEqual({ prompt_tokens: 101, completion_tokens: Math.ceil((12 + 2 + 4 + 10) / 4), total_tokens: 101 + 7 });
  });

  test('a field name inside generated text is not counted twice, escaped quotes do not end a value', () => {
    const t = new StreamTally(0);
    t.add(chunk({ content: 'say "content":"x" and \\"' }));
    expect(t.usage().completion_tokens).toBe(Math.ceil(JSON.stringify('say "content":"x" and \\"').slice(1, -1).length / 4));
  });

  test('nothing streamed: the prompt alone', () => {
    expect(new StreamTally(8).usage()).toEqual({ prompt_tokens: 2, completion_tokens: 0, total_tokens: 2 });
  });

  test('an OpenAI-compatible server that puts spaces in its JSON', () => {
    const t = new StreamTally(0);
    t.add('{"choices": [{"delta": {"content": "abcdefgh"}}]}');
    expect(t.usage().completion_tokens).toBe(2);
  });
});
