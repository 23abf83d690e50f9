// The request deadline (REQUEST_DEADLINE) for provider calls. The upstream idle timeout cannot
// bound a call on its own: an upstream trickling one byte per second never falls idle. One
// process-wide ticker watches every call in flight instead of a timer per request, so the hot
// path pays a Set insert and delete; the deadline is honoured to within TICK_MS.
import { CancelSignal } from '../cancel';
import { GatewayError } from '../errors';

const TICK_MS = 100;

interface Watched {
  at: number;
  expire: () => void;
}

const watched = new Set<Watched>();
let ticker: NodeJS.Timeout | undefined;

/** Calls `expire` once, soon after the epoch-ms `at`, unless the returned function is called first. */
function watchDeadline(at: number, expire: () => void): () => void {
  const entry: Watched = { at, expire };
  watched.add(entry);
  if (!ticker) {
    ticker = setInterval(tick, TICK_MS);
    ticker.unref(); // never what keeps a process alive
  }
  return () => {
    watched.delete(entry);
  };
}

function tick(): void {
  const now = Date.now();
  for (const entry of watched) {
    if (entry.at > now) continue;
    watched.delete(entry);
    entry.expire();
  }
  // Idle gateways run no timer at all.
  if (watched.size === 0 && ticker) {
    clearInterval(ticker);
    ticker = undefined;
  }
}

/**
 * Runs one provider call with a signal that is cancelled when the client leaves or when the
 * request's deadline (`deadlineAt`, epoch ms) passes before `call` resolves; then rejects with
 * `expired()` instead of the cancellation. What `call` resolves to (a stream once primed) is
 * never cut by the deadline afterwards.
 */
export async function callWithinDeadline<T>(
  client: CancelSignal,
  deadlineAt: number,
  expired: () => Error,
  call: (signal: CancelSignal) => Promise<T>,
): Promise<T> {
  const signal = new CancelSignal();
  if (client.cancelled) signal.cancel();
  else client.onCancel(() => signal.cancel());
  let late = false;
  const unwatch = watchDeadline(deadlineAt, () => {
    late = true;
    signal.cancel();
  });
  try {
    return await call(signal);
  } catch (err) {
    if (late && !client.cancelled) throw expired();
    throw err;
  } finally {
    unwatch();
  }
}

/** A provider too slow to answer within the request's deadline: a provider fault (the breaker counts it). */
export function deadlineExceeded(provider: string, deadlineMs: number): GatewayError {
  return new GatewayError(504, `${provider} did not answer within the request's ${deadlineMs} ms deadline (REQUEST_DEADLINE).`, {
    type: 'api_error',
    code: 'deadline_exceeded',
    retryable: true,
  });
}
