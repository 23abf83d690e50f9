// The estimate of a stream's usage when the provider's count never arrived: the generated text
// found in the chunks (≈ 4 characters per token) and the prompt from the body's size.
import { parseUsageEvent } from '../../functions/core/usage-aggregator';
import { StreamTally } from '../../functions/core/usage-estimate';

const chunk = (delta: Record<string, unknown>): string =>
  JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model: 'm', choices: [{ index: 0, delta, finish_reason: null }] });

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

  test("a Messages stream's content_block_delta events: text, tool input and thinking", () => {
    const t = new StreamTally(0);
    const delta = (d: Record<string, unknown>): string => JSON.stringify({ type: 'content_block_delta', index: 0, delta: d });
    t.add(delta({ type: 'text_delta', text: 'Hello' })); // 5
    t.add(delta({ type: 'input_json_delta', partial_json: '{"a":' })); // 5 (escaped: 7)
    t.add(delta({ type: 'thinking_delta', thinking: 'hmm' })); // 3
    expect(t.usage().completion_tokens).toBe(Math.ceil((5 + 7 + 3) / 4));
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

describe('an estimated usage event through the SQS queue', () => {
  const event = {
    request_id: 'req-1',
    tenant_id: 't',
    provider: 'openai',
    model: 'gpt-4o-mini',
    prompt_tokens: 10,
    completion_tokens: 5,
    cached_tokens: 0,
    cache_write_tokens: 0,
    reasoning_tokens: 0,
    cost_usd: 0.001,
    latency_ms: 3,
    cache_hit: false,
    status: 499,
    stream: true,
    timestamp: '2030-01-15T00:00:00.000Z',
    budget_usd: 10,
  };

  it('keeps its estimated mark when the aggregator parses the message body', () => {
    expect(parseUsageEvent(JSON.stringify({ ...event, estimated: true }))).toEqual({ ...event, estimated: true });
  });

  it('leaves the mark off an event that was measured', () => {
    expect(parseUsageEvent(JSON.stringify(event))).not.toHaveProperty('estimated');
  });
});
