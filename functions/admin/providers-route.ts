// GET /admin/providers: each provider with its circuit breaker (closed, open, half_open), when an
// open one lets a probe through, its consecutive failures, and the cooldowns running on its
// deployments, read from the stores the chat path writes.
import type { BreakerSettings } from '../config';
import type { BreakerState, BreakerStateStore, Cooldown, CooldownStore } from '../core/ports';
import { json, list } from './responses';
import { iso, type RouteHandler } from './services';

export interface ProviderStatusSource {
  /** The providers to list (the configured ones where known); any other provider with breaker state is listed too. */
  names: readonly string[];
  breakers: Pick<BreakerStateStore, 'all'>;
  cooldowns?: Pick<CooldownStore, 'active'>;
  breaker: BreakerSettings;
}

export interface ProviderStatusView {
  name: string;
  breaker: BreakerState['phase'];
  consecutive_failures: number;
  /** When the breaker opened; null while closed. */
  opened_at: string | null;
  /** When an open breaker lets the next call through as a probe; null unless open. */
  probe_at: string | null;
  cooldowns: Array<{ model: string; until: string; status: number; header: string }>;
}

export const listProviders: RouteHandler = async (s) => {
  const source = s.providerStatus;
  if (!source) return json(200, { ...list([]), note: 'Provider state is not available here.' });
  const nowMs = s.now();
  const [breakers, cooldowns] = await Promise.all([
    source.breakers.all(),
    source.cooldowns ? source.cooldowns.active(nowMs) : Promise.resolve<Record<string, Cooldown>>({}),
  ]);
  const names = [...new Set([...source.names, ...Object.keys(breakers)])].sort();
  const views = names.map((name): ProviderStatusView => {
    const state = breakers[name];
    const phase = state?.phase ?? 'closed';
    const openedAt = state && phase !== 'closed' && state.openedAtMs > 0 ? state.openedAtMs : null;
    return {
      name,
      breaker: phase,
      consecutive_failures: state?.consecutiveFailures ?? 0,
      opened_at: openedAt === null ? null : iso(openedAt),
      probe_at: phase === 'open' && openedAt !== null ? iso(openedAt + source.breaker.open_seconds * 1000) : null,
      cooldowns: Object.entries(cooldowns)
        .filter(([deployment]) => deployment.startsWith(`${name}/`))
        .map(([deployment, c]) => ({ model: deployment.slice(name.length + 1), until: iso(c.untilMs), status: c.status, header: c.header }))
        .sort((a, b) => (a.model < b.model ? -1 : 1)),
    };
  });
  return json(200, list(views));
};
