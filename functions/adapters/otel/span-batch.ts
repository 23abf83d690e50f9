// A batch of ended spans on its way to the export worker (export-worker-client.ts →
// export-worker.ts), in the shape that costs the request path's thread least to write and to post:
// - numbers fill a Float64Array whose buffer is transferred with the message, not copied; while a
//   batch fills they are neither boxed nor traced by the garbage collector, as they were in an
//   array of mixed values;
// - strings are appended to one text, with each one's length among the numbers, so the message
//   copies one string rather than thousands;
// - an array of strings (finish reasons) goes as its length and its strings; the rare values that
//   are none of these (events) travel beside them.
// Names and attribute keys go as indexes into the text table both threads keep (span-texts.ts).
import type { TextIndex, TextTable } from './span-texts';

/** What a batch carries to the worker. */
export interface SpanBatch {
  /** The numbers, `count` of them from the start: the buffer is transferred. */
  numbers: ArrayBuffer;
  count: number;
  /** The strings, one after another. */
  text: string;
  objects: unknown[];
}

/** A name or key beyond the table: it follows as a string. */
const UNLISTED = -1;
/** Numbers a batch starts with room for: 256 spans of some forty numbers each fit. */
const INITIAL_NUMBERS = 16_384;

export class SpanBatchWriter {
  private numbers = new Float64Array(INITIAL_NUMBERS);
  private count = 0;
  private text = '';
  private objects: unknown[] = [];

  constructor(private readonly texts: TextIndex) {}

  number(value: number): void {
    if (this.count === this.numbers.length) this.grow();
    this.numbers[this.count++] = value;
  }

  string(value: string): void {
    this.number(value.length);
    this.text += value;
  }

  object(value: unknown): void {
    this.objects.push(value);
  }

  /** A text that recurs (a span name, an attribute key): its table index, or itself. */
  recurring(value: string): void {
    const ref = this.texts.ref(value);
    if (typeof ref === 'number') {
      this.number(ref);
    } else {
      this.number(UNLISTED);
      this.string(ref);
    }
  }

  /** The batch written so far; the writer starts a fresh one. */
  take(): SpanBatch {
    const batch: SpanBatch = { numbers: this.numbers.buffer as ArrayBuffer, count: this.count, text: this.text, objects: this.objects };
    this.discard();
    return batch;
  }

  /** Drops what is written. Texts it added to the table stay listed: they travel with the next batch sent. */
  discard(): void {
    this.numbers = new Float64Array(INITIAL_NUMBERS);
    this.count = 0;
    this.text = '';
    this.objects = [];
  }

  private grow(): void {
    const bigger = new Float64Array(this.numbers.length * 2);
    bigger.set(this.numbers);
    this.numbers = bigger;
  }
}

/** Reads a batch back in the order it was written. */
export class SpanBatchReader {
  private readonly numbers: Float64Array;
  private at = 0;
  private textAt = 0;
  private objectAt = 0;

  constructor(
    private readonly batch: SpanBatch,
    private readonly texts: TextTable,
  ) {
    this.numbers = new Float64Array(batch.numbers, 0, batch.count);
  }

  get done(): boolean {
    return this.at >= this.numbers.length;
  }

  number(): number {
    return this.numbers[this.at++] as number;
  }

  string(): string {
    const end = this.textAt + this.number();
    const value = this.batch.text.slice(this.textAt, end);
    this.textAt = end;
    return value;
  }

  object(): unknown {
    return this.batch.objects[this.objectAt++];
  }

  recurring(): string {
    const ref = this.number();
    return ref === UNLISTED ? this.string() : this.texts.text(ref);
  }
}
