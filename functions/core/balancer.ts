// Balancing a route's deployments: which target a request tries first, with the rest following in
// order of preference for fallback. State is per gateway instance, in memory: every plan handed
// out is a memoised list, so picking costs no allocation once each order has been seen.
import type { Route, RouteStrategy } from '../config';
import { madeNoCall } from './fallback';
import type { Attempt } from './request-context';
import type { PlannedTarget } from './routing';

/** A route without `strategy` balances by weight once a target gives one; else it is a fallback chain. */
export function strategyOf(route: Route): RouteStrategy {
  return route.strategy ?? (route.targets.some((t) => t.weight !== undefined) ? 'weighted' : 'ordered');
}

export interface RouteBalancer {
  /** The next request's plan; never changed once returned (a request may still be walking it). */
  next(now: number): readonly PlannedTarget[];
}

/**
 * Smooth weighted round-robin (nginx's): each pick adds every weight to its deployment's credit
 * and takes the total from the richest, so any window of requests is split as the weights say,
 * interleaved (3:1 is A A B A, not A A A B), with no random draw on the hot path. The credits
 * start at a random point of the cycle, so short-lived instances (Lambda) do not all send their
 * first request to the heaviest deployment. Fallback order after the pick: by descending weight.
 */
/** The random start is at most this many picks into the cycle (a cycle is Σweights / min weight picks). */
const MAX_START_STEPS = 1000;

export class WeightedBalancer implements RouteBalancer {
  private readonly weights: number[];
  private readonly credit: number[];
  private readonly total: number;
  /** plans[i]: deployment i first, then the others by descending weight, then `tail`. */
  private readonly plans: (readonly PlannedTarget[])[];

  constructor(deployments: readonly PlannedTarget[], tail: readonly PlannedTarget[], random: () => number = Math.random) {
    this.weights = deployments.map((t) => t.weight ?? 1);
    this.total = this.weights.reduce((a, b) => a + b, 0);
    this.credit = deployments.map(() => 0);
    const byWeight = deployments.map((_, i) => i).sort((a, b) => (this.weights[b] ?? 0) - (this.weights[a] ?? 0) || a - b);
    this.plans = deployments.map((first, i) => [first, ...byWeight.filter((j) => j !== i).map((j) => deployments[j] as PlannedTarget), ...tail]);
    const cycle = Math.min(MAX_START_STEPS, Math.ceil(this.total / Math.min(...this.weights)));
    for (let steps = Math.floor(random() * cycle); steps > 0; steps--) this.next();
  }

  next(): readonly PlannedTarget[] {
    const { weights, credit } = this;
    let best = 0;
    for (let i = 0; i < credit.length; i++) {
      credit[i] = (credit[i] as number) + (weights[i] as number);
      if ((credit[i] as number) > (credit[best] as number)) best = i;
    }
    credit[best] = (credit[best] as number) - this.total;
    return this.plans[best] as readonly PlannedTarget[];
  }
}

/** Weight of the newest sample in a deployment's average: a slowdown or a recovery shows within a few answers. */
const EWMA_ALPHA = 0.5;
/** A failed attempt counts as its own time plus this much. */
export const FAILURE_PENALTY_MS = 2000;
/** A deployment not heard from for this long is treated as one without data: tried early again. */
export const FORGET_AFTER_MS = 60_000;
/** Every this-many-th pick of a route tries a deployment other than the fastest, in turn. */
export const EXPLORE_EVERY = 10;

/** One deployment's recent latency: an exponentially weighted moving average of its attempts. */
class DeploymentLatency {
  ewmaMs = 0;
  /** When the last sample came in; undefined before the first. */
  at: number | undefined;

  add(sampleMs: number, now: number): void {
    this.ewmaMs = this.at === undefined || now - this.at > FORGET_AFTER_MS ? sampleMs : this.ewmaMs + EWMA_ALPHA * (sampleMs - this.ewmaMs);
    this.at = now;
  }

  /** Lower is better; a deployment without (recent) data scores below any measured one. */
  score(now: number): number {
    return this.at === undefined || now - this.at > FORGET_AFTER_MS ? -1 : this.ewmaMs;
  }
}

/**
 * Recent latency per deployment (provider + model), fed from each request's attempts: the time to
 * the answer, or to a stream's first chunk, as the pipeline measured it with its clock. Only
 * deployments of a least-latency route are tracked. Per instance, in memory.
 */
export class LatencyBoard {
  private readonly byProvider = new Map<string, Map<string, DeploymentLatency>>();

  track(provider: string, model: string): DeploymentLatency {
    let models = this.byProvider.get(provider);
    if (!models) this.byProvider.set(provider, (models = new Map()));
    let entry = models.get(model);
    if (!entry) models.set(model, (entry = new DeploymentLatency()));
    return entry;
  }

  /** Records a request's attempts. A client's own error (400, 404, …) says nothing about the deployment. */
  observe(attempts: readonly Attempt[], now: number): void {
    for (const attempt of attempts) {
      const entry = this.byProvider.get(attempt.provider)?.get(attempt.model);
      // A target skipped unasked (open breaker, cooldown) measured nothing.
      if (!entry || madeNoCall(attempt)) continue;
      if (attempt.status < 400) entry.add(attempt.latency_ms, now);
      else if (providerFault(attempt.status)) entry.add(attempt.latency_ms + FAILURE_PENALTY_MS, now);
    }
  }
}

function providerFault(status: number): boolean {
  return status >= 500 || status === 408 || status === 409 || status === 429 || status === 401 || status === 403;
}

/** Orders seen before: more than this many distinct ones (many deployments, noisy latencies) starts the memo afresh. */
const MAX_ORDERS = 256;

/**
 * Lowest recent latency first, a deployment without data before any measured one (ties in the
 * order given); every EXPLORE_EVERY-th pick puts the next of the others first instead, so a slow
 * deployment keeps being measured and is taken back once it recovers. The rest follow by latency.
 */
export class LeastLatencyBalancer implements RouteBalancer {
  private readonly latency: DeploymentLatency[];
  private readonly scores: number[];
  private readonly order: number[];
  private readonly plans = new Map<number, readonly PlannedTarget[]>();
  private picks = 0;
  private explored = 0;

  constructor(
    private readonly deployments: readonly PlannedTarget[],
    private readonly tail: readonly PlannedTarget[],
    board: LatencyBoard,
  ) {
    this.latency = deployments.map((t) => board.track(t.provider, t.model));
    this.scores = deployments.map(() => 0);
    this.order = deployments.map((_, i) => i);
  }

  next(now: number): readonly PlannedTarget[] {
    const { scores, order, latency } = this;
    const n = order.length;
    // Insertion sort of a handful of indexes by score, stable: no allocation.
    for (let i = 0; i < n; i++) {
      scores[i] = (latency[i] as DeploymentLatency).score(now);
      order[i] = i;
    }
    for (let i = 1; i < n; i++) {
      const index = order[i] as number;
      const score = scores[index] as number;
      let j = i - 1;
      while (j >= 0 && (scores[order[j] as number] as number) > score) {
        order[j + 1] = order[j] as number;
        j--;
      }
      order[j + 1] = index;
    }
    this.picks = (this.picks + 1) % EXPLORE_EVERY;
    if (this.picks === 0) {
      // Move the explored deployment to the front, the others keep their places.
      const at = 1 + (this.explored++ % (n - 1));
      const explored = order[at] as number;
      for (let k = at; k > 0; k--) order[k] = order[k - 1] as number;
      order[0] = explored;
    }
    let key = 0;
    for (let i = 0; i < n; i++) key = key * n + (order[i] as number);
    let plan = this.plans.get(key);
    if (!plan) {
      if (this.plans.size >= MAX_ORDERS) this.plans.clear();
      plan = [...order.map((i) => this.deployments[i] as PlannedTarget), ...this.tail];
      this.plans.set(key, plan);
    }
    return plan;
  }
}
