import type { Cooldown, CooldownStore } from '../../core/ports';

/** Cooldowns in process: this instance's own (and its copy while a shared store is away). */
export class MemoryCooldownStore implements CooldownStore {
  private readonly cooldowns = new Map<string, Cooldown>();

  async put(deployment: string, cooldown: Cooldown, nowMs: number): Promise<void> {
    const running = this.cooldowns.get(deployment);
    if (running && running.untilMs >= cooldown.untilMs) return;
    this.cooldowns.set(deployment, cooldown);
    // Ended ones go when another starts: the map holds at most the deployments cooling at once.
    for (const [name, c] of this.cooldowns) if (c.untilMs <= nowMs) this.cooldowns.delete(name);
  }

  async active(nowMs: number): Promise<Record<string, Cooldown>> {
    const running: Record<string, Cooldown> = {};
    for (const [name, c] of this.cooldowns) if (c.untilMs > nowMs) running[name] = c;
    return running;
  }
}
