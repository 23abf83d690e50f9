// A stream's finish reasons, read off each chunk's JSON text without parsing it.
import { collectFinishReasons } from '../../functions/core/telemetry';

const reasonsOf = (...chunks: string[]): string[] => {
  const into: string[] = [];
  for (const chunk of chunks) collectFinishReasons(chunk, into);
  return into;
};

test('a choice that goes on names none; the one that ends names its reason', () => {
  expect(
    reasonsOf(
      '{"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}',
      '{"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}',
      '{"id":"c1","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}',
    ),
  ).toEqual(['stop']);
});

test('several choices, and JSON written with spaces, give each reason in order', () => {
  expect(reasonsOf('{"choices": [{"index": 0, "finish_reason": "length"}, {"index": 1, "finish_reason" : "tool_calls"}]}')).toEqual(['length', 'tool_calls']);
});

test('a text that only mentions the key in content is not a reason', () => {
  expect(reasonsOf('{"choices":[{"delta":{"content":"say \\"finish_reason\\" twice"},"finish_reason":null}]}')).toEqual([]);
});
