// What the forwarded-call suites share: a stream's events read whole, and a thrown value checked
// to be the gateway's own error.
import { GatewayError } from '../../functions/core/errors';
import type { NativeStreamEvent } from '../../functions/core/providers/provider';

/** Every event of a forwarded stream, in order. */
export async function drain(events: AsyncIterable<NativeStreamEvent>): Promise<NativeStreamEvent[]> {
  const out: NativeStreamEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

/** `err`, asserted to be a GatewayError. */
export function gatewayError(err: unknown): GatewayError {
  expect(err).toBeInstanceOf(GatewayError);
  return err as GatewayError;
}
