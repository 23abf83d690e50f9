// Token estimates for a stream that ends without the provider's usage (the client left, or the
// upstream cut it): the provider bills what it generated anyway, so the gateway counts what it
// received rather than nothing, and marks the count as estimated.
import type { Usage } from './openai-types';

/** ≈ 4 characters per token: the same rule the budget's reservation uses for the prompt. */
const CHARS_PER_TOKEN = 4;

/** Tokens estimated from a length in characters (or bytes, for a request body). */
export const estimateTokens = (chars: number): number => Math.ceil(chars / CHARS_PER_TOKEN);

/**
 * The string fields of a chunk that carry generated text. Matched in the chunk's JSON text rather
 * than parsed: providers pass most chunks through as bytes unparsed, which a parse per chunk here
 * would undo. A field name inside generated text is escaped (`\\"content\\"`), so it
 * never matches, and each value is skipped whole once counted. `delta` is a Responses stream's
 * delta event (a chat chunk's `delta` is an object, never matched); `text`, `partial_json` and
 * `thinking` are a Messages stream's `content_block_delta` (text, tool input, thinking).
 */
const TEXT_FIELD = /"(?:content|refusal|reasoning_content|arguments|delta|text|partial_json|thinking)"\s*:\s*"/g;

/** Index of the quote that closes the JSON string starting at `from` (escaped quotes skipped). */
function closingQuote(s: string, from: number): number {
  for (let i = s.indexOf('"', from); i >= 0; i = s.indexOf('"', i + 1)) {
    let backslashes = 0;
    while (s.charCodeAt(i - 1 - backslashes) === 0x5c) backslashes += 1;
    if (backslashes % 2 === 0) return i;
  }
  return s.length;
}

/** Counts the generated text of a stream's chunks as they pass, to estimate its usage. */
export class StreamTally {
  private chars = 0;

  /** `promptBytes`: the request body's size, from which the prompt's tokens are estimated. */
  constructor(private readonly promptBytes: number) {}

  /** Adds one chunk's generated text (content, refusal, reasoning, tool arguments), escapes and all. */
  add(chunkJson: string): void {
    TEXT_FIELD.lastIndex = 0;
    for (let m = TEXT_FIELD.exec(chunkJson); m; m = TEXT_FIELD.exec(chunkJson)) {
      const start = TEXT_FIELD.lastIndex;
      const end = closingQuote(chunkJson, start);
      this.chars += end - start;
      TEXT_FIELD.lastIndex = end + 1;
    }
  }

  /** The estimated usage: the prompt from the body's size, the completion from the text streamed. */
  usage(): Usage {
    const prompt = estimateTokens(this.promptBytes);
    const completion = estimateTokens(this.chars);
    return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  }
}
