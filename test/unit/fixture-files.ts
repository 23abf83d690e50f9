// Small fixture readers for the unit tests (test/fixtures/, see SOURCES.md for provenance).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURES = join(__dirname, '..', 'fixtures');

export function fixtureText(relative: string): string {
  return readFileSync(join(FIXTURES, relative), 'utf8');
}

export function fixtureJson<T>(relative: string): T {
  return JSON.parse(fixtureText(relative)) as T;
}

/** NDJSON → parsed objects, blank lines skipped. */
export function fixtureNdjson<T>(relative: string): T[] {
  return fixtureText(relative)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

/** Runs `fn` and returns what it threw (fails the test when it does not throw). */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to throw, but it returned normally');
}

export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject, but it resolved');
}
