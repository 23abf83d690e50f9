// The request deadline (REQUEST_DEADLINE) for provider calls. The upstream idle timeout cannot
// bound a call on its own: an upstream trickling one byte per second never falls idle. One
// process-wide ticker watches every call in flight instead of a timer per request, so the hot
// path pays a Set insert and delete; the deadline is honoured to within TICK_MS.
const TICK_MS = 100;

interface Watched {
  at: number;
  expire: () => void;
}

const watched = new Set<Watched>();
let ticker: NodeJS.Timeout | undefined;

/** Calls `expire` once, soon after the epoch-ms `at`, unless the returned function is called first. */
export function watchDeadline(at: number, expire: () => void): () => void {
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
