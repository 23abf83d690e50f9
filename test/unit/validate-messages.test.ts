// Validation messages never contradict themselves: a number that is not the number expected is
// described by what is wrong with it, not by its type ("expected a number, but got number").
import { GatewayError } from '../../functions/core/errors';
import { MAX_JSON_DEPTH, tooDeepPath } from '../../functions/core/json-depth';
import { validateChatRequest } from '../../functions/core/ingress/openai-chat/validate-request';
import { parseJsonBody, validateEmbeddingsRequest } from '../../functions/core/validate';

/** The 400 a raw body gets, as the client reads it. */
function refusal(raw: string, validate: (b: Record<string, unknown>) => unknown = validateChatRequest): GatewayError {
  try {
    validate(parseJsonBody(Buffer.from(raw)));
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).status).toBe(400);
    return err as GatewayError;
  }
  throw new Error(`accepted: ${raw}`);
}

const chat = (fields: string): string => `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],${fields}}`;

describe('validation messages', () => {
  test.each([
    ['temperature', chat('"temperature":1e999'), /expected a number, but got a number too large to represent/],
    ['top_p', chat('"top_p":-1e400'), /expected a number, but got a number too large to represent/],
    ['max_tokens', chat('"max_tokens":1e999'), /expected an integer, but got a number too large to represent/],
    ['max_tokens', chat('"max_tokens":1.5'), /expected an integer, but got 1\.5/],
    ['n', chat('"n":2.25'), /expected an integer, but got 2\.25/],
    ['seed', chat('"seed":0.5'), /expected an integer, but got 0\.5/],
  ])('%s: %s', (param, raw, message) => {
    const err = refusal(raw);
    expect(err.param).toBe(param);
    expect(err.message).toMatch(message);
    expect(err.message).not.toMatch(/expected (a number|an integer), but got number/);
  });

  test('embeddings dimensions', () => {
    const err = refusal('{"model":"m","input":"x","dimensions":1e999}', validateEmbeddingsRequest);
    expect(err.message).toBe("Invalid type for 'dimensions': expected an integer, but got a number too large to represent.");
  });

  test('other types are still named by their type', () => {
    expect(refusal(chat('"temperature":"hot"')).message).toBe("Invalid type for 'temperature': expected a number, but got string.");
  });
});

describe('tooDeepPath', () => {
  const nest = (depth: number): unknown => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = [v];
    return v;
  };

  test('accepts the bound, names the first path beyond it', () => {
    expect(tooDeepPath({ a: nest(MAX_JSON_DEPTH - 1) })).toBeUndefined();
    expect(tooDeepPath({ a: nest(MAX_JSON_DEPTH) })).toBe('a[0][0][0][0][0]');
    expect(tooDeepPath({ ok: nest(3), b: [1, 'x', { c: nest(MAX_JSON_DEPTH) }] })).toBe('b[2].c[0][0][0]');
  });

  test('names the first deep field in body order, keys cut short', () => {
    const long = 'k'.repeat(1000);
    expect(tooDeepPath({ first: nest(3), [long]: nest(10), last: nest(10) }, 5)).toBe(`${'k'.repeat(40)}[0][0][0][0]`);
  });

  test('walks a million levels without recursion', () => {
    const raw = '['.repeat(1_000_000) + ']'.repeat(1_000_000);
    expect(tooDeepPath({ x: JSON.parse(raw) as unknown })).toBe('x[0][0][0][0][0]');
  });
});
