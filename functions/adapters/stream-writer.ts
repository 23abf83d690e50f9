// Writing a streamed body to any Writable-like sink (node:http response, Lambda response stream)
// chunk by chunk as the chunks come, with back-pressure.

/** What the writer needs of a stream; the Lambda runtime's stream is Writable-like, not a Writable. */
export interface WritableLike {
  readonly destroyed: boolean;
  write(chunk: string): boolean;
  once(event: string, listener: () => void): unknown;
  off(event: string, listener: () => void): unknown;
}

/**
 * Writes every chunk of `chunks`, waiting for 'drain' whenever the sink asks for it so a slow
 * client never makes the gateway buffer a whole stream. Stops when the sink is destroyed (the
 * client left) and then lets the producer clean up. Does not end the sink.
 */
export async function writeChunks(sink: WritableLike, chunks: AsyncIterable<string>): Promise<void> {
  const iterator = chunks[Symbol.asyncIterator]();
  try {
    for (;;) {
      if (sink.destroyed) break;
      const next = await iterator.next();
      if (next.done || sink.destroyed) break;
      // A sink destroyed meanwhile may already have emitted 'close': do not wait on it then.
      if (!sink.write(next.value) && !sink.destroyed) await settle(sink, ['drain', 'close', 'error']);
    }
  } finally {
    if (sink.destroyed) await iterator.return?.();
  }
}

/** Resolves on the first of `events`, then removes its listeners (no listener piles up per wait). */
export function settle(sink: WritableLike, events: readonly string[]): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      for (const e of events) sink.off(e, done);
      resolve();
    };
    for (const e of events) sink.once(e, done);
  });
}
