// The usage totals check of the outage section: after the load, the tenant's month totals
// (GET /v1/usage) must equal what the clients saw — the sum of x_gateway.cost_usd and the number
// of 2xx answers — once every buffered event and settlement has been written. The gateways write
// usage after the response, and retry while the store is away, so the totals are polled until
// they match, or stop changing for STABLE_MS, bounded by MAX_SETTLE_MS. STABLE_MS is longer than
// the DynamoDB usage store's marker lease (30 s): an event whose attempt failed half-way can wait
// that long before another attempt may take it over, so a shorter pause could stop too early.
import { sleep } from './children';
import { request } from './http-util';

export interface UsageTotals {
  costUsd: number;
  requests: number;
}

export interface UsageCheck {
  /** What the clients saw (warm-up included): Σ cost_usd of 2xx answers, and their count. */
  seen: UsageTotals;
  /** GET /v1/usage on the first instance after settling, and on the second right after (null: no read succeeded in time). */
  counted: UsageTotals | null;
  countedOther: UsageTotals | null;
  /** Reads that failed (e.g. 503 store_unavailable while an instance still had the store marked down), and the first reason. */
  failedReads: number;
  firstFailure?: string;
  costDiffUsd: number;
  requestDiff: number;
  /** Both figures equal (cost within 1e-9 USD), on both instances. */
  match: boolean;
  /** How long the settle poll took. */
  settleS: number;
  /** The first instance's totals whenever they changed while settling (s after the load ended). */
  trajectory: Array<{ s: number; requests: number; costUsd: number }>;
}

const POLL_MS = 500;
const STABLE_MS = 35_000;
const MAX_SETTLE_MS = 90_000;
export const COST_TOLERANCE_USD = 1e-9;

export async function readUsage(baseUrl: string, auth: string): Promise<UsageTotals> {
  const r = await request(`${baseUrl}/v1/usage`, { method: 'GET', headers: { authorization: auth }, timeoutMs: 5000 });
  if (r.status !== 200) throw new Error(`GET /v1/usage: ${r.status} ${r.body.slice(0, 200)}`);
  const j = JSON.parse(r.body) as { total_cost_usd?: unknown; request_count?: unknown };
  if (typeof j.total_cost_usd !== 'number' || typeof j.request_count !== 'number') throw new Error(`GET /v1/usage: unexpected body ${r.body.slice(0, 200)}`);
  return { costUsd: j.total_cost_usd, requests: j.request_count };
}

const same = (a: UsageTotals, b: UsageTotals): boolean => Math.abs(a.costUsd - b.costUsd) <= COST_TOLERANCE_USD && a.requests === b.requests;

/** Polls until the totals equal `seen`, or stay unchanged for STABLE_MS, or MAX_SETTLE_MS passes. */
export async function settleAndCheck(seen: UsageTotals, first: { url: string; auth: string }, other: { url: string; auth: string }): Promise<UsageCheck> {
  const started = Date.now();
  let failedReads = 0;
  let firstFailure: string | undefined;
  // A read can fail while an instance still has the store marked down; that is not a result.
  const tryRead = (t: { url: string; auth: string }): Promise<UsageTotals | undefined> =>
    readUsage(t.url, t.auth).catch((err: unknown) => {
      failedReads++;
      firstFailure ??= `${t.url}: ${err instanceof Error ? err.message.slice(0, 160) : String(err)}`;
      return undefined;
    });
  let last: UsageTotals | undefined;
  let lastChange = started;
  const trajectory: UsageCheck['trajectory'] = [];
  for (;;) {
    const now = await tryRead(first);
    if (now !== undefined) {
      if (last === undefined || !same(now, last)) {
        lastChange = Date.now();
        trajectory.push({ s: (lastChange - started) / 1000, ...now });
      }
      last = now;
      if (same(now, seen) || Date.now() - lastChange >= STABLE_MS) break;
    }
    if (Date.now() - started >= MAX_SETTLE_MS) break;
    await sleep(POLL_MS);
  }
  const settleS = (Date.now() - started) / 1000;
  let countedOther: UsageTotals | undefined;
  for (let i = 0; i < 20 && countedOther === undefined; i++) {
    countedOther = await tryRead(other);
    if (countedOther === undefined) await sleep(POLL_MS);
  }
  const counted = last ?? null;
  return {
    seen,
    counted,
    countedOther: countedOther ?? null,
    failedReads,
    ...(firstFailure !== undefined ? { firstFailure } : {}),
    costDiffUsd: counted ? counted.costUsd - seen.costUsd : Number.NaN,
    requestDiff: counted ? counted.requests - seen.requests : Number.NaN,
    match: counted !== null && countedOther !== undefined && same(counted, seen) && same(countedOther, seen),
    settleS,
    trajectory,
  };
}
