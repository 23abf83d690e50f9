// Waiting for something a test can observe but not await (a write made after the answer, a
// reconnect, a child process closing its listener): the one polling loop of the test suite.

/**
 * Polls `check` every `everyMs` until it returns something other than `undefined` or `false`;
 * resolves with that value and the time it took. Bounded twice: by `timeoutMs` of real time and
 * by timeoutMs / everyMs + 1 attempts, so it ends even where `Date` is faked. A `check` that
 * throws counts as "not yet"; the last error is quoted when it gives up.
 */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 5_000,
  everyMs = 25,
): Promise<{ value: T; ms: number }> {
  const start = Date.now();
  const attempts = Math.ceil(timeoutMs / everyMs) + 1;
  let last: unknown;
  for (let attempt = 1; ; attempt++) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return { value, ms: Date.now() - start };
    } catch (err) {
      last = err;
    }
    if (attempt >= attempts || Date.now() - start > timeoutMs) {
      throw new Error(`${what}: not within ${timeoutMs} ms (${attempt} tries)${last ? ` (last error: ${String(last)})` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
