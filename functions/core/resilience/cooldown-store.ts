// Cooldowns while the shared store is failing: every cooldown this instance starts is also kept
// in process, and reads add this instance's own to the shared ones, so while the store is away
// (or missed a write) cooldowns are per instance. Nothing here rejects: a cooldown-store outage
// must not fail a request.
import type { Cooldown, CooldownStore } from '../ports';
import type { StoreGuard } from '../store-guard';

export class ResilientCooldownStore implements CooldownStore {
  constructor(
    private readonly shared: CooldownStore,
    /** This instance's own copy (a memory store). */
    private readonly local: CooldownStore,
    private readonly guard: StoreGuard,
  ) {}

  async put(deployment: string, cooldown: Cooldown, nowMs: number): Promise<void> {
    await this.local.put(deployment, cooldown, nowMs);
    await this.guard.run('cooldowns.put', () => this.shared.put(deployment, cooldown, nowMs)).catch(() => undefined);
  }

  async active(nowMs: number): Promise<Record<string, Cooldown>> {
    const own = await this.local.active(nowMs);
    const shared = await this.guard.run('cooldowns.active', () => this.shared.active(nowMs)).catch(() => ({}) as Record<string, Cooldown>);
    return laterOf(shared, own);
  }
}

/** Both sets of cooldowns, the later-ending one where a deployment is in both. */
export function laterOf(a: Record<string, Cooldown>, b: Record<string, Cooldown>): Record<string, Cooldown> {
  const merged = { ...a };
  for (const [deployment, cooldown] of Object.entries(b)) {
    const other = merged[deployment];
    if (!other || other.untilMs < cooldown.untilMs) merged[deployment] = cooldown;
  }
  return merged;
}
