import type { LogLevel } from '../config';
import { REDACTED, redactingReplacer, redactText } from './redact';

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** Whether lines of this level are written (lets a hot path skip building their fields). */
  enabled?(level: LogLevel): boolean;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Whether a logger set to `threshold` writes lines of `level`. */
export const levelEnabled = (threshold: LogLevel, level: LogLevel): boolean => RANK[level] >= RANK[threshold];

/** Names the line itself owns: a field of the same name keeps their position in the line. */
const OWN_FIELDS = new Set(['time', 'level', 'message']);
/** Field names written without escaping: identifiers, never array indices (which objects order first). */
const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A field name as written (`,"name":`) and whether the replacer masks its value; null: the generic path. */
interface FieldName {
  prefix: string;
  secret: boolean;
}
/** Field names are a small fixed set in code: each is checked once, not per line. */
const fieldNames = new Map<string, FieldName | null>();
const MAX_FIELD_NAMES = 1000;

function fieldName(name: string): FieldName | null {
  let found = fieldNames.get(name);
  if (found !== undefined) return found;
  found = OWN_FIELDS.has(name) || !PLAIN_NAME.test(name) ? null : { prefix: `,"${name}":`, secret: redactingReplacer(name, 'x') === REDACTED };
  if (fieldNames.size < MAX_FIELD_NAMES) fieldNames.set(name, found);
  return found;
}

/**
 * ISO-8601 time of a line. The text up to the second is kept and reused: the access line is
 * written per request, and formatting a Date each time is most of what the time costs.
 */
function isoClock(now: () => number): () => string {
  let second = Number.NaN;
  let head = '';
  return () => {
    const ms = Math.trunc(now()); // as a Date would read it
    const s = Math.floor(ms / 1000);
    if (s !== second) {
      second = s;
      head = new Date(s * 1000).toISOString().slice(0, -4); // "2026-12-03T12:08:05."
    }
    const frac = ms - s * 1000;
    return `${head}${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}Z`;
  };
}

/** Printable ASCII but `"` and `\\`: text JSON writes unchanged between its quotes. */
const PLAIN_TEXT = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** A string as JSON: ids and names need no escaping, anything else JSON escapes. */
const jsonString = (text: string): string => (PLAIN_TEXT.test(text) ? `"${text}"` : JSON.stringify(text));

/**
 * One field as `,"name":value`, exactly as JSON.stringify with the redacting replacer writes it;
 * '' when JSON would leave the field out (undefined, a function, a symbol).
 */
function field(name: FieldName, key: string, value: unknown): string {
  if (value === null) return `${name.prefix}null`;
  if (!name.secret) {
    if (typeof value === 'string') return `${name.prefix}${jsonString(redactText(value))}`;
    if (typeof value === 'number') return `${name.prefix}${Number.isFinite(value) ? String(value) : 'null'}`;
    if (typeof value === 'boolean') return `${name.prefix}${value}`;
  }
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return '';
  // Objects (a Date, an error's details) and masked fields are rare in log lines: JSON and the
  // replacer write them as they always did.
  const one = JSON.stringify({ [key]: value }, redactingReplacer);
  return one === '{}' ? '' : `,${one.slice(1, -1)}`;
}

/**
 * The line, field by field: the same text `JSON.stringify({ time, level, message, ...fields },
 * redactingReplacer)` gives, without building the merged object or calling the replacer for the
 * line's own keys. Fields named like the line's own keys, or not plain identifiers, take that
 * generic path, so key order and escaping stay exactly JSON's.
 */
function formatLine(time: string, level: LogLevel, message: string, fields: LogFields | undefined): string {
  let body = '';
  if (fields !== undefined) {
    for (const key of Object.keys(fields)) {
      const name = fieldName(key);
      if (name === null) return `${JSON.stringify({ time, level, message, ...fields }, redactingReplacer)}\n`;
      body += field(name, key, fields[key]);
    }
  }
  return `{"time":"${time}","level":"${level}","message":${jsonString(redactText(message))}${body}}\n`;
}

/**
 * Structured one-line JSON logs, one write per line. Callers pass ids and counts, never keys or
 * prompts; the redacting replacer is the net for what slips through (a provider's error text, say).
 * `now` is the clock (ms since the epoch) the lines are stamped with; the default reads Date.now
 * at each line, so a clock swapped in later (fake timers) is honoured.
 */
export function createJsonLogger(level: LogLevel, write: (line: string) => void, now: () => number = () => Date.now()): Logger {
  const min = RANK[level];
  const time = isoClock(now);
  const log =
    (lvl: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      if (RANK[lvl] < min) return;
      write(formatLine(time(), lvl, message, fields));
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), enabled: (lvl) => RANK[lvl] >= min };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, enabled: () => false };
