// A Responses stream is written as the provider's events arrive: the client reads the first text
// delta while the upstream still holds the rest back. A scripted OpenAI upstream (served natively:
// its own Responses events) holds it until the test has read that delta, then ends the answer cut
// at the token cap.
import type { ServerResponse } from 'node:http';
import { SSE_HEAD, startScriptedUpstream, type ScriptedUpstream } from '../fakes/scripted-upstream';
import { splitSse } from '../fakes/fixtures';
import { DEFAULT_KEY, startGateway, type TestGateway } from '../helpers/gateway';

interface Event {
  type: string;
  delta?: string;
  response?: { status: string; incomplete_details: unknown; output: Array<{ status: string; content?: Array<{ text: string }> }>; usage: unknown };
}

let sequence = 0;
/** One Responses stream event as OpenAI writes it. */
function responsesEvent(type: string, fields: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...fields })}\n\n`;
}

const at = { item_id: 'msg_1', output_index: 0, content_index: 0 };

describe('a Responses stream, as it arrives', () => {
  let upstream: ScriptedUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await startScriptedUpstream('/v1');
    gw = await startGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  test('the first delta reaches the client before the upstream sends the rest; cut at the cap, the stream ends incomplete', async () => {
    let held: ServerResponse | undefined;
    let sent = '';
    upstream.script((_req, res, body) => {
      sent = body;
      res.writeHead(200, SSE_HEAD);
      res.write(
        responsesEvent('response.created', { response: { id: 'resp_1', object: 'response', status: 'in_progress', model: 'gpt-4o', output: [] } }) +
          responsesEvent('response.output_text.delta', { ...at, delta: 'Hel', logprobs: [] }),
      );
      held = res;
    });
    const res = await fetch(`${gw.baseURL}/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DEFAULT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', input: 'Hello', stream: true, max_output_tokens: 2 }),
    });
    const reader = res.body?.getReader();
    if (!reader) throw new Error('no body');
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('"delta":"Hel"')) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the stream ended before its first delta');
      text += decoder.decode(value, { stream: true });
    }
    expect(held).toBeDefined();
    const output = [
      { id: 'msg_1', type: 'message', role: 'assistant', status: 'incomplete', content: [{ type: 'output_text', text: 'Hello', annotations: [] }] },
    ];
    held?.end(
      responsesEvent('response.output_text.delta', { ...at, delta: 'lo', logprobs: [] }) +
        responsesEvent('response.incomplete', {
          response: {
            id: 'resp_1',
            object: 'response',
            status: 'incomplete',
            incomplete_details: { reason: 'max_output_tokens' },
            model: 'gpt-4o',
            output,
            usage: { input_tokens: 5, output_tokens: 2, total_tokens: 7 },
          },
        }),
    );
    for (let next = await reader.read(); !next.done; next = await reader.read()) text += decoder.decode(next.value, { stream: true });
    const events = splitSse(text).map((block) => JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null') as Event);
    expect(events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta)).toEqual(['Hel', 'lo']);
    const last = events.at(-1);
    expect(last?.type).toBe('response.incomplete');
    expect(last?.response).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
      output: [{ status: 'incomplete', content: [{ text: 'Hello' }] }],
      usage: { input_tokens: 5, output_tokens: 2, total_tokens: 7 },
    });
    expect(last?.response).toHaveProperty('x_gateway');
    expect(JSON.parse(sent)).toEqual({ model: 'gpt-4o', input: 'Hello', stream: true, max_output_tokens: 2 });
  });
});
