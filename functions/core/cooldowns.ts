// Deployments cooling down: a provider and model whose upstream answered 429, 503 or 529 with a
// retry hint are skipped until the hint has passed (capped at COOLDOWN_MAX_SECONDS), on every
// instance sharing the store. Read through a short in-process cache: the store is asked at most
// once per CACHE_MS per instance, however many requests and deployments there are; cooldowns this
// instance starts are seen at once, other instances' within the cache's lifetime.
import type { CancelSignal } from './cancel';
import type { CooldownSettings } from '../config';
import type { Cooldown, CooldownStore } from './ports';
import type { RetryAfter } from './providers/retry-after';

/** How long an instance trusts the cooldowns it read from a shared store. */
export const COOLDOWN_CACHE_MS = 1000;

/** Waits `ms`; ends early (resolving) when the request is cancelled. Tests pass one that moves a fake clock. */
export type Sleep = (ms: number, signal?: CancelSignal) => Promise<void>;

export const sleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    const unsubscribe = signal?.onCancel(done);
    function done(): void {
      clearTimeout(timer);
      unsubscribe?.();
      resolve();
    }
  });

/** A deployment's name in the store: provider names have no `/`, so the first one splits it. */
export const deploymentOf = (provider: string, model: string): string => `${provider}/${model}`;

export class Cooldowns {
  private cached: { readAtMs: number; active: Record<string, Cooldown> } | undefined;
  /** The read in flight, shared by the requests that find the cache stale at once. */
  private reading: Promise<Record<string, Cooldown>> | undefined;

  constructor(
    private readonly store: CooldownStore,
    private readonly settings: CooldownSettings['cooldowns'],
    private readonly now: () => number,
    readonly sleep: Sleep,
    private readonly cacheMs = COOLDOWN_CACHE_MS,
  ) {}

  get retryAllowed(): boolean {
    return this.settings.retry;
  }

  /** The deployment's cooldown, when one is running now. */
  async of(provider: string, model: string): Promise<Cooldown | undefined> {
    const cooldown = (await this.active())[deploymentOf(provider, model)];
    return cooldown && cooldown.untilMs > this.now() ? cooldown : undefined;
  }

  /** Starts the cooldown an upstream advised (capped); undefined when cooldowns are off. */
  async start(provider: string, model: string, advice: RetryAfter, overloaded: boolean): Promise<Cooldown | undefined> {
    const ms = Math.min(advice.ms, this.settings.maxMs);
    if (ms <= 0) return undefined;
    const nowMs = this.now();
    const cooldown: Cooldown = { untilMs: nowMs + ms, status: overloaded ? 503 : 429, header: advice.header };
    const deployment = deploymentOf(provider, model);
    if (this.cached) {
      const running = this.cached.active[deployment];
      if (!running || running.untilMs < cooldown.untilMs) this.cached.active = { ...this.cached.active, [deployment]: cooldown };
    }
    await this.store.put(deployment, cooldown, nowMs);
    return cooldown;
  }

  private async active(): Promise<Record<string, Cooldown>> {
    const nowMs = this.now();
    if (this.cached && nowMs - this.cached.readAtMs < this.cacheMs) return this.cached.active;
    this.reading ??= this.store.active(nowMs).finally(() => {
      this.reading = undefined;
    });
    const active = await this.reading;
    this.cached = { readAtMs: nowMs, active };
    return active;
  }
}
