// What a Lambda entry prints (Powertools logs and EMF metrics go to stdout, as in Lambda),
// captured instead of shown, for tests that assert on it.
export interface CapturedOutput {
  /** Everything written so far, as one string. */
  text(): string;
  /** The JSON lines written so far, parsed. */
  lines(): Array<Record<string, unknown>>;
  restore(): void;
}

export function captureOutput(): CapturedOutput {
  const chunks: string[] = [];
  const spies = [process.stdout, process.stderr].map((stream) =>
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }),
  );
  const text = (): string => chunks.join('');
  return {
    text,
    lines: () =>
      text()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    restore: () => {
      for (const spy of spies) spy.mockRestore();
    },
  };
}
