import type { LogLevel } from './config';
import { redactingReplacer } from './redact';

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

/**
 * Structured one-line JSON logs. Callers pass ids and counts, never keys or prompts; the
 * redacting replacer is the net for what slips through (a provider's error text, say).
 */
export function createJsonLogger(level: LogLevel, write: (line: string) => void): Logger {
  const min = RANK[level];
  const log = (lvl: LogLevel) => (message: string, fields?: LogFields): void => {
    if (RANK[lvl] < min) return;
    write(`${JSON.stringify({ time: new Date().toISOString(), level: lvl, message, ...fields }, redactingReplacer)}\n`);
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), enabled: (lvl) => RANK[lvl] >= min };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, enabled: () => false };
