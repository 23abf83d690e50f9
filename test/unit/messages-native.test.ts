// NativeMessages: the Messages API's native side, the request it forwards and the answer it writes
// back, on the recorded Anthropic exchanges.
import type { ChatCompletionRequest } from '../../functions/core/chat/model';
import { GatewayError } from '../../functions/core/errors';
import { NativeMessages } from '../../functions/core/ingress/anthropic-messages/native';
import { fixtureJson, fixtureText } from './fixture-files';

const native = new NativeMessages();
const request: ChatCompletionRequest = { model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'hi' }] };
const target = { provider: 'anthropic', model: 'claude-haiku-4-5' };
const metadata = { provider: 'anthropic', cost_usd: 0.001 };

describe('NativeMessages', () => {
  test("the client's bytes for the model they name; re-encoded with another model", () => {
    const raw = Buffer.from('{"model":"claude-haiku-4-5",  "max_tokens":8,"messages":[]}');
    const wire = JSON.parse(raw.toString()) as Record<string, unknown>;
    expect(native.requestBody(request, wire, raw, target, false)).toBe(raw);
    const routed = native.requestBody(request, { ...wire, model: 'smart' }, raw, target, false);
    expect(JSON.parse(routed.toString())).toEqual({ model: 'claude-haiku-4-5', max_tokens: 8, messages: [] });
  });

  test("a thinking block the gateway wrote for another provider's reasoning (unsigned) is left out; Anthropic's own stay", () => {
    const signed = { type: 'thinking', thinking: 'Anthropic thought', signature: 'EqQBCgIYAhIM' };
    const unsigned = { type: 'thinking', thinking: 'Ollama thought', signature: '' };
    const messages = [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: [unsigned, { type: 'text', text: 'Hello' }] },
      { role: 'user', content: 'Again' },
      { role: 'assistant', content: [signed, { type: 'text', text: 'Hello again' }] },
      { role: 'user', content: 'And?' },
    ];
    const wire = { model: 'claude-haiku-4-5', max_tokens: 8, messages };
    const sent = JSON.parse(native.requestBody(request, wire, Buffer.from(JSON.stringify(wire)), target, false).toString()) as typeof wire;
    expect(sent.messages[1]).toEqual({ role: 'assistant', content: [{ type: 'text', text: 'Hello' }] });
    expect(sent.messages[3]).toEqual(messages[3]);
    expect(sent.messages).toHaveLength(5);
  });

  test('passes on anthropic-beta and anthropic-version only', () => {
    const headers = {
      'anthropic-beta': 'a,b',
      'anthropic-version': '2023-06-01',
      'x-api-key': 'gw-key',
      authorization: 'Bearer gw-key',
      'x-provider': 'anthropic',
    };
    expect(native.forwardedHeaders(headers)).toEqual({ 'anthropic-beta': 'a,b', 'anthropic-version': '2023-06-01' });
    expect(native.forwardedHeaders({})).toEqual({});
  });

  test('a whole answer keeps its bytes and gains x_gateway; its model is the one that answered', () => {
    const raw = JSON.stringify(fixtureJson<object>('anthropic/messages-nonstream.response.json'));
    const final = native.answer(raw);
    expect(final.model).toBe('claude-haiku-4-5-20251001');
    const body = final.render(metadata);
    expect(body.startsWith(raw.slice(0, -1))).toBe(true);
    expect(JSON.parse(body)).toEqual({ ...JSON.parse(raw), x_gateway: metadata });
  });

  test('a stream: events pass as they came; message_delta is final, with x_gateway and the model of message_start', () => {
    const writer = native.openStream();
    const events = fixtureText('anthropic/messages-stream.sse.txt')
      .split('\n\n')
      .filter((e) => e.trim() !== '')
      .map((e) => ({ type: /^event: (.*)$/m.exec(e)?.[1] ?? '', data: /^data: (.*)$/m.exec(e)?.[1] ?? '' }));
    const out: string[] = [];
    for (const event of events) {
      if (!writer.isFinal(event)) {
        out.push(writer.pass(event));
        continue;
      }
      const final = writer.final(event);
      expect(final.model).toBe('claude-haiku-4-5-20251001');
      out.push(final.render(metadata));
    }
    expect(events.filter((e) => writer.isFinal(e)).map((e) => e.type)).toEqual(['message_delta']);
    expect(events.filter((e) => writer.carriesText(e)).map((e) => e.type)).toEqual(events.filter((e) => e.type === 'content_block_delta').map((e) => e.type));
    const delta = out.find((e) => e.startsWith('event: message_delta\n'));
    expect(JSON.parse(/^data: (.*)$/m.exec(delta ?? '')?.[1] ?? 'null')).toMatchObject({ type: 'message_delta', x_gateway: metadata });
    expect(out.at(-1)).toBe(`event: message_stop\ndata: ${events.at(-1)?.data}\n\n`);
  });

  test("a stream's fault is Anthropic's error event, in the gateway's words", () => {
    const writer = native.openStream();
    const event = (err: GatewayError): unknown => JSON.parse(/^data: (.*)$/m.exec(writer.error(err))?.[1] ?? 'null');
    const upstream = new GatewayError(502, 'anthropic failed with status 529.', { type: 'api_error', retryable: true, detail: 'Overloaded' });
    expect(writer.error(upstream)).toMatch(/^event: error\n/);
    expect(event(upstream)).toEqual({ type: 'error', error: { type: 'api_error', message: 'anthropic failed with status 529.' } });
    expect(event(new GatewayError(503, 'every target is unavailable'))).toMatchObject({ error: { type: 'overloaded_error' } });
  });

  test('serves every request natively unless told which ones only Anthropic can serve', () => {
    expect(native.translatedRefusal({ model: 'x', tools: [{ type: 'web_search_20250305', name: 'web_search' }] })).toBeUndefined();
    const refusing = new NativeMessages(() => new GatewayError(400, 'server tool'));
    expect(refusing.translatedRefusal({})).toMatchObject({ status: 400 });
  });
});
