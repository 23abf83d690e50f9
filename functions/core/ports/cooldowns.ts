// Where deployments' cooldowns are kept: a deployment (a provider and a model) that answered 429,
// 503 or 529 with a retry hint is not called again until the hint has passed, on any instance.

export interface Cooldown {
  /** When the deployment may be called again (ms since epoch, on the gateway's clock). */
  untilMs: number;
  /** The upstream status that started it (429, 503, 529). */
  status: number;
  /** The header the wait came from (`retry-after`, `x-ratelimit-reset-requests`, …). */
  header: string;
}

/** Cooldown step: each deployment's running cooldown, shared by every instance on the same backend. */
export interface CooldownStore {
  /** Starts a cooldown; one that already ends later is kept (a shorter hint never shortens it). */
  put(deployment: string, cooldown: Cooldown, nowMs: number): Promise<void>;
  /** Every cooldown still running at `nowMs`, by deployment. */
  active(nowMs: number): Promise<Record<string, Cooldown>>;
}
