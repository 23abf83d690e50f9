// The outage section's figures, computed from the paced client's samples and the times of the
// kill and the restart. Pure functions: no I/O, so the definitions below are the whole story.
//
// Phases, by when a request was SENT: before = [0, kill), during = [kill, store ready again),
// after = [ready, end). "Store ready" is when the restarted process accepts connections again,
// not when the restart was issued (dynalite needs a moment to start).
// Recovery: the run after `ready` is cut into consecutive windows of WINDOW_MS; a window is
// normal when it has requests, all of them 2xx, and its p99 is at most NORMAL_FACTOR × the p99
// before the outage. Recovery time = start of the first normal window − ready (0 when the very
// first window is normal). With ~75 requests per window, a window's p99 is its slowest request.
import { percentile, round } from './stats';
import type { Sample } from './outage-load';

export const WINDOW_MS = 250;
export const NORMAL_FACTOR = 1.5;

export interface PhaseStats {
  requests: number;
  ok2xx: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface WindowStats {
  /** Window start, ms after the start of the schedule. */
  startMs: number;
  requests: number;
  non2xx: number;
  p50Ms: number;
  p99Ms: number;
}

export interface OutageTimes {
  killMs: number;
  restartMs: number;
  readyMs: number;
}

export interface OutageFigures {
  requests: number;
  ok2xx: number;
  /** Share of requests answered 2xx, in %. */
  ok2xxPct: number;
  /** "200", "503 store_unavailable", "error client_timeout", ... → count. */
  statuses: Record<string, number>;
  before: PhaseStats;
  during: PhaseStats;
  after: PhaseStats;
  /** p99 during − p99 before. */
  addedP99Ms: number;
  /** Seconds from "store ready" to the first normal window; null if none was normal. */
  recoveryS: number | null;
  /** Windows after the first normal one that were not normal (a relapse after recovery). */
  abnormalAfterRecovery: number;
  /** Share of the pre-outage windows that pass the same test (how noisy the test is here), in %. */
  normalBeforePct: number;
  /** The 2xx answers' x_gateway.cost_usd summed, and their count. */
  costSeenUsd: number;
  /** Client-side pacing: the worst lag of a send behind its slot, and sends more than 5 ms late. */
  client: { maxLateMs: number; lateOver5ms: number };
  windows: WindowStats[];
}

const is2xx = (s: Sample): boolean => s.status >= 200 && s.status < 300;

export function statusKey(s: Pick<Sample, 'status' | 'error'>): string {
  if (s.status === 0) return `error ${s.error ?? 'unknown'}`;
  return s.status >= 200 && s.status < 300 ? String(s.status) : `${s.status} ${s.error ?? 'unknown'}`;
}

function phase(samples: readonly Sample[]): PhaseStats {
  const lat = samples.map((s) => s.latencyMs);
  return {
    requests: samples.length,
    ok2xx: samples.filter(is2xx).length,
    p50Ms: round(percentile(lat, 50), 2),
    p99Ms: round(percentile(lat, 99), 2),
    maxMs: round(
      lat.reduce((m, x) => Math.max(m, x), 0),
      2,
    ),
  };
}

function windowsFrom(samples: readonly Sample[], fromMs: number, toMs: number): WindowStats[] {
  const out: WindowStats[] = [];
  for (let start = fromMs; start < toMs; start += WINDOW_MS) {
    const inWin = samples.filter((s) => s.sendMs >= start && s.sendMs < start + WINDOW_MS);
    const lat = inWin.map((s) => s.latencyMs);
    out.push({
      startMs: round(start, 1),
      requests: inWin.length,
      non2xx: inWin.filter((s) => !is2xx(s)).length,
      p50Ms: round(percentile(lat, 50), 2),
      p99Ms: round(percentile(lat, 99), 2),
    });
  }
  return out;
}

const isNormal = (w: WindowStats, limitMs: number): boolean => w.requests > 0 && w.non2xx === 0 && w.p99Ms <= limitMs;

export function analyzeOutage(samples: readonly Sample[], t: OutageTimes, endMs: number): OutageFigures {
  const before = samples.filter((s) => s.sendMs < t.killMs);
  const during = samples.filter((s) => s.sendMs >= t.killMs && s.sendMs < t.readyMs);
  const after = samples.filter((s) => s.sendMs >= t.readyMs);
  const b = phase(before);
  const d = phase(during);
  const limitMs = NORMAL_FACTOR * b.p99Ms;

  const recoveryWindows = windowsFrom(samples, t.readyMs, endMs);
  const first = recoveryWindows.findIndex((w) => isNormal(w, limitMs));
  const beforeWindows = windowsFrom(samples, 0, t.killMs);
  const statuses: Record<string, number> = {};
  for (const s of samples) statuses[statusKey(s)] = (statuses[statusKey(s)] ?? 0) + 1;
  const ok = samples.filter(is2xx);

  return {
    requests: samples.length,
    ok2xx: ok.length,
    ok2xxPct: samples.length === 0 ? 0 : round((100 * ok.length) / samples.length, 3),
    statuses,
    before: b,
    during: d,
    after: phase(after),
    addedP99Ms: round(d.p99Ms - b.p99Ms, 2),
    recoveryS: first < 0 ? null : round((first * WINDOW_MS) / 1000, 3),
    abnormalAfterRecovery: first < 0 ? 0 : recoveryWindows.slice(first).filter((w) => !isNormal(w, limitMs)).length,
    normalBeforePct: beforeWindows.length === 0 ? 0 : round((100 * beforeWindows.filter((w) => isNormal(w, limitMs)).length) / beforeWindows.length, 1),
    costSeenUsd: ok.reduce((sum, s) => sum + (s.costUsd ?? 0), 0),
    client: {
      maxLateMs: round(
        samples.reduce((m, s) => Math.max(m, s.lateMs), 0),
        2,
      ),
      lateOver5ms: samples.filter((s) => s.lateMs > 5).length,
    },
    windows: windowsFrom(samples, 0, endMs),
  };
}
