// The GenAI semantic-convention attributes the gateway writes on a provider call's span.
import {
  chatRequestAttributes,
  finishReasonsOf,
  genAiProviderName,
  inputMessagesJson,
  NO_SPAN,
  NO_TELEMETRY,
  usageAttributes,
} from '../../functions/core/telemetry';
import type { ChatCompletion } from '../../functions/core/chat/model';

describe('GenAI span attributes', () => {
  test('gen_ai.provider.name is the conventions’ value for each kind of upstream, a named provider by its type', () => {
    expect(genAiProviderName('openai', 'groq')).toBe('openai');
    expect(genAiProviderName('anthropic', 'anthropic')).toBe('anthropic');
    expect(genAiProviderName('bedrock', 'bedrock-west')).toBe('aws.bedrock');
    expect(genAiProviderName('ollama', 'ollama')).toBe('ollama');
    expect(genAiProviderName('azure-openai', 'azure-eu')).toBe('azure.ai.openai');
    expect(genAiProviderName(undefined, 'custom')).toBe('custom');
  });

  test('request parameters appear only when the client gave them', () => {
    expect(chatRequestAttributes({ model: 'm', messages: [] })).toEqual({ 'gen_ai.request.stream': false });
    expect(chatRequestAttributes({ model: 'm', messages: [], stream: true, max_completion_tokens: 9, temperature: 0, top_p: 1 })).toEqual({
      'gen_ai.request.stream': true,
      'gen_ai.request.max_tokens': 9,
      'gen_ai.request.temperature': 0,
      'gen_ai.request.top_p': 1,
    });
  });

  test('usage carries the cache and reasoning breakdowns where the upstream reported them', () => {
    expect(
      usageAttributes({
        prompt_tokens: 100,
        completion_tokens: 20,
        total_tokens: 120,
        prompt_tokens_details: { cached_tokens: 60, cache_creation_tokens: 30 },
        completion_tokens_details: { reasoning_tokens: 12 },
      }),
    ).toEqual({
      'gen_ai.usage.input_tokens': 100,
      'gen_ai.usage.output_tokens': 20,
      'gen_ai.usage.cache_read.input_tokens': 60,
      'gen_ai.usage.cache_creation.input_tokens': 30,
      'gen_ai.usage.reasoning.output_tokens': 12,
    });
  });

  test('a completion gives every finish reason, in choice order', () => {
    const completion: ChatCompletion = {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1,
      model: 'gpt-4o-2024',
      choices: [
        { index: 0, message: { role: 'assistant', content: 'a' }, finish_reason: 'stop' },
        { index: 1, message: { role: 'assistant', content: null }, finish_reason: 'tool_calls' },
      ],
    };
    expect(finishReasonsOf(completion)).toEqual(['stop', 'tool_calls']);
  });

  test('captured messages are parts-shaped: text, tool calls and tool results, key-shaped text redacted, images by type only', () => {
    const json = inputMessagesJson({
      model: 'm',
      messages: [
        { role: 'system', content: 'be brief' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'key sk-ant-abcdefghijkl' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
          ],
        },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'done' },
      ],
    });
    expect(JSON.parse(json)).toEqual([
      { role: 'system', parts: [{ type: 'text', content: 'be brief' }] },
      { role: 'user', parts: [{ type: 'text', content: 'key sk-ant-[REDACTED]' }, { type: 'image_url' }] },
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_1', name: 'f', arguments: '{"a":1}' }] },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_1', response: 'done' }] },
    ]);
  });

  test('NO_TELEMETRY hands out one shared no-op span', () => {
    expect(NO_TELEMETRY.enabled).toBe(false);
    expect(NO_TELEMETRY.startSpan('x', { kind: 'server' })).toBe(NO_SPAN);
  });
});
