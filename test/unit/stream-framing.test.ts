// SSE/NDJSON framing (issue 11, item 9): linear in the bytes, and capped per event.
import { ndjsonLines, sseData } from '../../functions/core/providers/stream-framing';
import { GatewayError } from '../../functions/core/errors';

const MiB = 1024 * 1024;

/** `total` bytes of `fill` after `prefix`, in 64 KiB network-sized chunks, with no separator. */
async function* unseparated(prefix: string, total: number): AsyncGenerator<Buffer> {
  yield Buffer.from(prefix);
  const piece = Buffer.alloc(64 * 1024, 'a');
  for (let sent = 0; sent < total; sent += piece.length) yield piece;
}

async function drain(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('stream framing', () => {
  test('a 20 MB event without a separator is split in linear time (the old splitter re-scanned the buffer per chunk)', async () => {
    const start = process.cpuUsage();
    const events = await drain(sseData(unseparated('data: "', 20 * MiB), 'openai', 64 * MiB));
    const cpuMs = (process.cpuUsage(start).user + process.cpuUsage(start).system) / 1000;
    expect(events).toHaveLength(1);
    expect(events[0]!.length).toBeGreaterThan(20 * MiB);
    expect(cpuMs).toBeLessThan(1500);
  });

  test.each([
    ['an SSE event', () => sseData(unseparated('data: "', 3 * MiB), 'openai', 2 * MiB)],
    [
      'an SSE event spread over many data lines',
      () =>
        sseData(
          (async function* () {
            for (let i = 0; i < 64; i++) yield `data: ${'b'.repeat(64 * 1024)}\n`;
          })(),
          'openai',
          2 * MiB,
        ),
    ],
    ['an NDJSON line', () => ndjsonLines(unseparated('{"x":"', 3 * MiB), 'ollama', 2 * MiB)],
  ])('%s over MAX_RESPONSE_BYTES is a retryable 502', async (_name, run) => {
    const err = await drain(run()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ status: 502, retryable: true, code: 'upstream_response_too_large' });
  });

  test('events split across chunks at every byte, CRLF and LF, multi-byte UTF-8 cut mid-character', async () => {
    const wire = Buffer.from('data: {"a":"é€"}\r\n\r\n: comment\ndata: line1\ndata: line2\n\ndata: [DONE]\n\n');
    const oneByteChunks = (async function* () {
      for (let i = 0; i < wire.length; i++) yield wire.subarray(i, i + 1);
    })();
    expect(await drain(sseData(oneByteChunks, 'openai'))).toEqual(['{"a":"é€"}', 'line1\nline2', '[DONE]']);
    expect(
      await drain(
        ndjsonLines(
          (async function* () {
            yield '{"a":1}\r\n\n{"b"';
            yield ':2}';
          })(),
          'ollama',
        ),
      ),
    ).toEqual(['{"a":1}', '{"b":2}']);
  });
});
