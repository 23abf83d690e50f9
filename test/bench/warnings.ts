// Warnings collected over the whole run: printed as they happen and counted again at the end,
// and saved with the results, so a suspicious measurement is not silently averaged in.
import type { WrkResult } from './wrk';

const collected: string[] = [];

export function warn(msg: string): void {
  collected.push(msg);
  console.log(`  WARNING: ${msg}`);
}

export function allWarnings(): readonly string[] {
  return collected;
}

export function checkWrkErrors(what: string, r: WrkResult): void {
  if (r.badStatus > 0 || r.socketErrors > 0) warn(`${what}: ${r.badStatus} HTTP errors, ${r.socketErrors} socket errors of ${r.requests} requests`);
}
