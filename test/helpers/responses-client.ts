// What the Responses API suites share on the client's side: a function tool, the gateway's
// metadata on an answer, and the API error a call fails with.
import { APIError } from 'openai';
import type { FunctionTool } from 'openai/resources/responses/responses';

export const weatherTool: FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Get the weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: false,
};

export interface XGateway {
  provider: string;
  cost_usd: number;
  cache_hit: boolean;
  attempts: Array<{ provider: string; status: number }>;
}

/** An answer's `x_gateway`. */
export const meta = (r: unknown): XGateway => (r as { x_gateway: XGateway }).x_gateway;

/** The API error a call fails with (the test fails if it succeeds). */
export async function apiError(call: Promise<unknown>): Promise<APIError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof APIError)) throw new Error(`expected an API error, got ${String(err)}`);
  return err;
}
