// Reads a gateway's log file (JSON lines on stdout, LOG_LEVEL=warn) after an outage run: how often
// it said the store went away and came back, and when, on the load's clock; and every other warn
// or error message with its count (usage buffering, budget settlement retries, lost events), by
// message rather than by a fixed list, since that wording changes as the degraded paths improve.
import { readFileSync } from 'node:fs';

export interface InstanceLog {
  file: string;
  storeUnavailable: number;
  storeAvailableAgain: number;
  /** When each 'store unavailable' / 'store available again' line was written, ms after the load's start. */
  unavailableAtMs: number[];
  availableAgainAtMs: number[];
  /** "<level>: <message>" → lines, for every other warn and error line. */
  otherMessages: Record<string, number>;
}

const UNAVAILABLE = 'store unavailable';
const AVAILABLE_AGAIN = 'store available again';
/** Printed once at start by every local gateway with an open admin API; not about the outage. */
const STARTUP_NOISE = 'the admin API is unauthenticated';

interface LogLine {
  time?: unknown;
  level?: unknown;
  message?: unknown;
}

function parse(line: string): LogLine | undefined {
  try {
    return JSON.parse(line) as LogLine;
  } catch {
    return undefined;
  }
}

export function readInstanceLog(file: string, startEpochMs: number): InstanceLog {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((raw) => ({ raw, json: parse(raw) }));
  const at = (needle: string): number[] =>
    lines
      .filter((l) => l.raw.includes(needle))
      .map((l) => Date.parse(String(l.json?.time)) - startEpochMs)
      .filter((x) => Number.isFinite(x));
  const otherMessages: Record<string, number> = {};
  for (const l of lines) {
    const msg = typeof l.json?.message === 'string' ? l.json.message : l.raw.slice(0, 120);
    if (msg.includes(UNAVAILABLE) || msg.includes(AVAILABLE_AGAIN) || msg.includes(STARTUP_NOISE)) continue;
    const key = `${String(l.json?.level ?? 'raw')}: ${msg}`;
    otherMessages[key] = (otherMessages[key] ?? 0) + 1;
  }
  return {
    file,
    storeUnavailable: lines.filter((l) => l.raw.includes(UNAVAILABLE)).length,
    storeAvailableAgain: lines.filter((l) => l.raw.includes(AVAILABLE_AGAIN)).length,
    unavailableAtMs: at(UNAVAILABLE),
    availableAgainAtMs: at(AVAILABLE_AGAIN),
    otherMessages,
  };
}
