// The canonical conversation sent back to a native Responses upstream as input items: read back,
// the items are the same conversation.
import type { ChatMessage } from '../../functions/core/chat/model';
import { inputItems } from '../../functions/core/ingress/openai-responses/input-items';
import { inputMessages } from '../../functions/core/ingress/openai-responses/read-request';

describe('canonical messages as Responses input items', () => {
  test('a conversation with an image, text beside function calls and their outputs reads back the same', () => {
    const conversation: ChatMessage[] = [
      { role: 'developer', content: 'Answer briefly.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in this picture, and the weather there?' },
          { type: 'image_url', image_url: { url: 'https://example.com/paris.png', detail: 'low' } },
        ],
      },
      {
        role: 'assistant',
        content: 'Paris. Checking the weather.',
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'Drizzle' },
      { role: 'tool', tool_call_id: 'call_2', content: 'Noon' },
      { role: 'assistant', content: 'Drizzle at noon.' },
    ];
    const items = inputItems(conversation);
    expect(items.map((item) => item.type)).toEqual([
      'message',
      'message',
      'message',
      'function_call',
      'function_call',
      'function_call_output',
      'function_call_output',
      'message',
    ]);
    expect(items[1]).toEqual({
      type: 'message',
      role: 'user',
      content: [
        { type: 'input_text', text: 'What is in this picture, and the weather there?' },
        { type: 'input_image', image_url: 'https://example.com/paris.png', detail: 'low' },
      ],
    });
    expect(inputMessages(items)).toEqual(conversation);
  });

  test('an assistant turn with only function calls is the calls alone', () => {
    const items = inputItems([{ role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] }]);
    expect(items).toEqual([{ type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' }]);
  });
});
