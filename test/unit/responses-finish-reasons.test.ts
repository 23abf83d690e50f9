// Why a natively forwarded Responses API answer stopped, as its CLIENT span reports it: read off the
// recorded OpenAI response the ingress parses anyway, whole or as a stream's final event.
import { NativeResponses } from '../../functions/core/ingress/openai-responses/native';
import type { WireRequest } from '../../functions/core/ingress/ingress';
import { fixtureJson } from './fixture-files';

const wire = { model: 'gpt-4o', input: 'Hello' } as unknown as WireRequest;
const recorded = fixtureJson<Record<string, unknown>>('openai/responses-text.recorded.response.json');

test('a completed response: its status', () => {
  expect(recorded.status).toBe('completed');
  expect(new NativeResponses().answer(JSON.stringify(recorded), wire).finishReasons?.()).toEqual(['completed']);
});

test('an incomplete response: why it is incomplete, whole or as the final stream event', () => {
  const incomplete = { ...recorded, status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  expect(new NativeResponses().answer(JSON.stringify(incomplete), wire).finishReasons?.()).toEqual(['max_output_tokens']);
  const writer = new NativeResponses().openStream(wire);
  const event = { type: 'response.incomplete', data: JSON.stringify({ type: 'response.incomplete', sequence_number: 9, response: incomplete }) };
  expect(writer.isFinal(event)).toBe(true);
  expect(writer.final(event).finishReasons?.()).toEqual(['max_output_tokens']);
});

test('a failed response: failed', () => {
  const failed = { ...recorded, status: 'failed', error: { code: 'server_error', message: 'The model failed' } };
  expect(new NativeResponses().answer(JSON.stringify(failed), wire).finishReasons?.()).toEqual(['failed']);
});
