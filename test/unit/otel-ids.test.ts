// Trace and span ids cut from the random pool: W3C's shape (lower-case hex of the right length,
// never all zeros) and no repeats, across several refills of the pool.
import { newSpanId, newTraceId } from '../../functions/adapters/otel/ids';

test('trace ids are 32 lower-case hex digits and span ids 16, never zero and never repeated across pool refills', () => {
  // 8 KB of random bytes give 256 trace ids or 512 span ids: 2,000 of each refill the pool several times.
  const traces = Array.from({ length: 2000 }, newTraceId);
  const spans = Array.from({ length: 2000 }, newSpanId);
  for (const id of traces) expect(id).toMatch(/^[0-9a-f]{32}$/);
  for (const id of spans) expect(id).toMatch(/^[0-9a-f]{16}$/);
  expect(traces).not.toContain('0'.repeat(32));
  expect(spans).not.toContain('0'.repeat(16));
  expect(new Set(traces).size).toBe(traces.length);
  expect(new Set(spans).size).toBe(spans.length);
});
