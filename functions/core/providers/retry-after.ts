// How long an upstream asked the gateway to wait, read from the headers of its 429, 503 or 529:
// `retry-after-ms`, `retry-after` (seconds or an HTTP date), OpenAI's `x-ratelimit-reset-*`
// durations and Anthropic's `anthropic-ratelimit-*-reset` timestamps, in that order.

/** An upstream's advice to wait before calling the same deployment again. */
export interface RetryAfter {
  /** How long, in milliseconds from when the answer arrived (> 0). */
  ms: number;
  /** The header it came from, named in the attempts of requests that skip the deployment. */
  header: string;
}

export type ResponseHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** The statuses whose retry hints start a cooldown: rate limited, unavailable, Anthropic's overloaded. */
const ADVISING_STATUSES: ReadonlySet<number> = new Set([429, 503, 529]);

const OPENAI_LIMITS = ['requests', 'tokens'] as const;
const ANTHROPIC_LIMITS = ['requests', 'tokens', 'input-tokens', 'output-tokens'] as const;

/**
 * The retry advice of an upstream answer with `status`, or undefined when it gives none (or gives
 * a wait of zero). `nowMs` is the wall clock the dated forms (HTTP date, Anthropic's reset
 * timestamps) are measured against: the upstream's clock, not a gateway's test clock.
 */
export function retryAfterOf(status: number, headers: ResponseHeaders, nowMs: number = Date.now()): RetryAfter | undefined {
  if (!ADVISING_STATUSES.has(status)) return undefined;
  return retryAfterMs(headers) ?? retryAfter(headers, nowMs) ?? openAiReset(headers) ?? anthropicReset(headers, nowMs);
}

function header(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  const trimmed = first?.trim();
  return trimmed ? trimmed : undefined;
}

const advice = (ms: number | undefined, name: string): RetryAfter | undefined =>
  ms !== undefined && Number.isFinite(ms) && ms > 0 ? { ms: Math.ceil(ms), header: name } : undefined;

const NUMBER = /^\d+(?:\.\d+)?$/;

function retryAfterMs(headers: ResponseHeaders): RetryAfter | undefined {
  const raw = header(headers, 'retry-after-ms');
  return raw !== undefined && NUMBER.test(raw) ? advice(Number(raw), 'retry-after-ms') : undefined;
}

function retryAfter(headers: ResponseHeaders, nowMs: number): RetryAfter | undefined {
  const raw = header(headers, 'retry-after');
  if (raw === undefined) return undefined;
  if (NUMBER.test(raw)) return advice(Number(raw) * 1000, 'retry-after');
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : advice(at - nowMs, 'retry-after');
}

const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|h|m|s))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** OpenAI's reset durations: `1s`, `6m0s`, `20ms`, `1m30.5s`. */
export function parseDuration(raw: string): number | undefined {
  if (!DURATION.test(raw)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of raw.matchAll(DURATION_PART)) ms += Number(amount) * (UNIT_MS[unit as string] ?? 0);
  return ms;
}

interface LimitReset {
  header: string;
  ms: number;
  exhausted: boolean;
}

/**
 * Of the limits that report a reset, those reported exhausted (remaining 0) are the ones the
 * upstream refused for: the wait is the latest of their resets; when none says so, the latest of all.
 */
function latest(resets: readonly LimitReset[]): RetryAfter | undefined {
  const exhausted = resets.filter((r) => r.exhausted);
  let pick: LimitReset | undefined;
  for (const r of exhausted.length > 0 ? exhausted : resets) if (!pick || r.ms > pick.ms) pick = r;
  return pick ? advice(pick.ms, pick.header) : undefined;
}

function openAiReset(headers: ResponseHeaders): RetryAfter | undefined {
  const resets: LimitReset[] = [];
  for (const limit of OPENAI_LIMITS) {
    const name = `x-ratelimit-reset-${limit}`;
    const raw = header(headers, name);
    const ms = raw === undefined ? undefined : parseDuration(raw);
    if (ms !== undefined) resets.push({ header: name, ms, exhausted: header(headers, `x-ratelimit-remaining-${limit}`) === '0' });
  }
  return latest(resets);
}

function anthropicReset(headers: ResponseHeaders, nowMs: number): RetryAfter | undefined {
  const resets: LimitReset[] = [];
  for (const limit of ANTHROPIC_LIMITS) {
    const name = `anthropic-ratelimit-${limit}-reset`;
    const raw = header(headers, name);
    const at = raw === undefined ? Number.NaN : Date.parse(raw);
    if (!Number.isNaN(at)) resets.push({ header: name, ms: at - nowMs, exhausted: header(headers, `anthropic-ratelimit-${limit}-remaining`) === '0' });
  }
  return latest(resets);
}
