// The Bedrock provider's call guard: client cancellation (499), upstream silence (504) and
// releasing the connection when a stream is abandoned.
import { CallGuard } from '../../functions/adapters/bedrock/call';
import { CancelSignal } from '../../functions/core/cancel';
import type { GatewayError } from '../../functions/core/errors';
import { rejectionOf } from './fixture-files';

/** A call that settles only when its signal aborts, as the SDK's does. */
const untilAborted = (signal: AbortSignal): Promise<never> =>
  new Promise((_, reject) => signal.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))));

describe('CallGuard', () => {
  it('fails with 504 when the upstream stays silent for timeoutMs', async () => {
    const guard = new CallGuard({ signal: new CancelSignal(), timeoutMs: 30 });
    const err = (await rejectionOf(guard.run(untilAborted))) as GatewayError;
    expect([err.status, err.code, err.retryable]).toEqual([504, 'upstream_timeout', true]);
    expect(err.message).toBe('bedrock did not answer within 30 ms.');
  });

  it('fails with 499 when the client goes away, and before any call once it has', async () => {
    const signal = new CancelSignal();
    const guard = new CallGuard({ signal, timeoutMs: 10_000 });
    const pending = rejectionOf(guard.run(untilAborted));
    signal.cancel();
    expect(await pending).toMatchObject({ status: 499, code: 'client_closed_request', retryable: false });
    let called = false;
    expect(
      await rejectionOf(
        guard.run(async () => {
          called = true;
        }),
      ),
    ).toMatchObject({ status: 499 });
    expect(called).toBe(false);
  });

  it('maps other failures through bedrockError', async () => {
    const guard = new CallGuard({ signal: new CancelSignal(), timeoutMs: 1000 });
    const err = await rejectionOf(
      guard.run(() => Promise.reject(Object.assign(new Error('x'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 429 } }))),
    );
    expect(err).toMatchObject({ status: 502, retryable: true });
  });

  it('times only the wait for the next event, and aborts the response when the reader stops early', async () => {
    const guard = new CallGuard({ signal: new CancelSignal(), timeoutMs: 40 });
    async function* slowConsumerFastUpstream(): AsyncGenerator<number> {
      yield 1;
      yield 2;
      yield 3;
    }
    const seen: number[] = [];
    for await (const n of guard.events(slowConsumerFastUpstream())) {
      seen.push(n);
      await new Promise((r) => setTimeout(r, 60)); // longer than timeoutMs, but the upstream is not the one waiting
      if (n === 2) break;
    }
    expect(seen).toEqual([1, 2]);
    expect(guard.signal.aborted).toBe(true);

    const finished = new CallGuard({ signal: new CancelSignal(), timeoutMs: 1000 });
    for await (const _ of finished.events(slowConsumerFastUpstream())) {
      /* read to the end */
    }
    expect(finished.signal.aborted).toBe(false);
  });

  it('fails a stream whose next event does not come in time', async () => {
    const guard = new CallGuard({ signal: new CancelSignal(), timeoutMs: 30 });
    async function* stalls(signal: AbortSignal): AsyncGenerator<number> {
      yield 1;
      await untilAborted(signal);
    }
    const read = async (): Promise<void> => {
      for await (const _ of guard.events(stalls(guard.signal))) {
        /* consume */
      }
    };
    expect(await rejectionOf(read())).toMatchObject({ status: 504 });
  });
});
