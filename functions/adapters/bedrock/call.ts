// One SDK call under the gateway's rules: cancelled when the client goes away (499), failed when
// Bedrock stays silent for timeoutMs before its answer or between stream events (504), and every
// other failure mapped by errors.ts. The SDK only offers an AbortSignal, so both end in one.
import type { CallContext } from '../../core/providers/provider';
import { GatewayError } from '../../core/errors';
import { clientGone } from '../../core/providers/upstream-http';
import { bedrockError, PROVIDER } from './errors';

export class CallGuard {
  private readonly controller = new AbortController();
  private readonly unsubscribe: () => void;
  private timer: NodeJS.Timeout | undefined;
  private timedOut = false;

  constructor(private readonly ctx: Pick<CallContext, 'signal' | 'timeoutMs'>) {
    this.unsubscribe = ctx.signal.onCancel(() => this.controller.abort());
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Runs `call` with the silence timer armed until it settles; throws only GatewayErrors. */
  async run<T>(call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.ctx.signal.cancelled) throw clientGone();
    this.arm();
    try {
      return await call(this.controller.signal);
    } catch (err) {
      throw this.error(err);
    } finally {
      this.disarm();
    }
  }

  /**
   * Reads `events` with the silence timer armed only while waiting for the next one, so a slow
   * client (backpressure) is never mistaken for a silent upstream. Stopping early aborts the
   * HTTP response, which returns nothing more to read.
   */
  async *events<T>(events: AsyncIterable<T>): AsyncGenerator<T> {
    const iterator = events[Symbol.asyncIterator]();
    let complete = false;
    try {
      for (;;) {
        const next = await this.run(() => iterator.next());
        if (next.done) {
          complete = true;
          return;
        }
        yield next.value;
      }
    } finally {
      this.close(!complete);
    }
  }

  /** Ends the call: drops the cancel listener, and aborts the connection if it is still open. */
  close(abort: boolean): void {
    this.disarm();
    this.unsubscribe();
    if (abort) this.controller.abort();
  }

  /** Why the call failed, as the gateway reports it: the client's leaving or our timer come first. */
  error(err: unknown): GatewayError {
    if (this.ctx.signal.cancelled) return clientGone();
    if (this.timedOut) {
      return new GatewayError(504, `${PROVIDER} did not answer within ${this.ctx.timeoutMs} ms.`, {
        type: 'api_error',
        code: 'upstream_timeout',
        retryable: true,
      });
    }
    return bedrockError(err);
  }

  private arm(): void {
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort();
    }, this.ctx.timeoutMs);
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
