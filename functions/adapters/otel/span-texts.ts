// Texts that recur in every span (attribute keys, span names) travel to the export worker as
// numbers: each is sent once, then named by its index, so a batch (span-batch.ts) carries a few
// numbers where it would carry twenty-odd strings per span. Both threads append to their tables in
// the order the batches travel, which a MessagePort keeps.

/** Distinct texts kept before new ones travel as themselves (span names hold client-chosen model names). */
const MAX_TEXTS = 4096;

/** The main thread's table: a text's index, or the text itself once the table is full. */
export class TextIndex {
  private readonly index = new Map<string, number>();
  /** Texts added since the last batch left: they travel with it. */
  private added: string[] = [];

  ref(text: string): number | string {
    const known = this.index.get(text);
    if (known !== undefined) return known;
    if (this.index.size >= MAX_TEXTS) return text;
    const at = this.index.size;
    this.index.set(text, at);
    this.added.push(text);
    return at;
  }

  /** The texts a batch must carry, and a fresh list for the next. */
  takeAdded(): string[] {
    const added = this.added;
    this.added = [];
    return added;
  }
}

/** The worker's table: the same texts, in the same order. */
export class TextTable {
  private readonly texts: string[] = [];

  add(texts: readonly string[]): void {
    for (const t of texts) this.texts.push(t);
  }

  text(index: number): string {
    return this.texts[index] ?? '';
  }
}
