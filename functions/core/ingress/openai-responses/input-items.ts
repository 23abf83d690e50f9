// Canonical chat messages → Responses API input items: the way back of read-request.ts, for a
// conversation the gateway expanded (a stored history, resolved item references) and forwards to
// an upstream that speaks the Responses API itself.
//
// Decisions:
// - An assistant turn is its text as an assistant message (when it has any), then one
//   function_call item per tool call; a tool message is a function_call_output item.
// - Text parts keep their role's part type (input_text, output_text for the assistant); images
//   are input_image parts with their detail.
import type { ChatMessage, ContentPart } from '../../chat/model';
import type { Json } from '../../validate';

/** The messages as input items, in order. */
export function inputItems(messages: readonly ChatMessage[]): Json[] {
  const items: Json[] = [];
  for (const message of messages) {
    if (message.role === 'tool') {
      items.push({ type: 'function_call_output', call_id: String(message.tool_call_id), output: textOf(message.content) });
    } else if (message.role === 'assistant') {
      const text = textOf(message.content);
      if (text !== '' || !message.tool_calls?.length) items.push({ type: 'message', role: 'assistant', content: text });
      for (const call of message.tool_calls ?? []) {
        items.push({ type: 'function_call', call_id: call.id, name: call.function.name, arguments: call.function.arguments });
      }
    } else {
      const content = message.content;
      items.push({ type: 'message', role: message.role, content: Array.isArray(content) ? content.map(inputPart) : (content ?? '') });
    }
  }
  return items;
}

function textOf(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  if (!content) return '';
  return content.map(partText).join('');
}

function inputPart(part: ContentPart): Json {
  if (part.type === 'image_url') {
    const image = part.image_url as { url: string; detail?: string };
    return image.detail ? { type: 'input_image', image_url: image.url, detail: image.detail } : { type: 'input_image', image_url: image.url };
  }
  return { type: 'input_text', text: partText(part) };
}

const partText = (part: ContentPart): string => ('text' in part && typeof part.text === 'string' ? part.text : '');
