// Breaker states in Redis: one hash, <prefix>breakers, field <provider> → the state as JSON.
// One hash makes get/put/all one command each, and all() needs no separate set of names.
import type { Redis } from 'ioredis';
import { CLOSED } from '../../core/breaker';
import type { BreakerPhase, BreakerState, BreakerStateStore } from '../../core/ports';

const PHASES: ReadonlySet<string> = new Set<BreakerPhase>(['closed', 'open', 'half_open']);

export interface RedisBreakerStoreOptions {
  prefix?: string;
}

function parse(provider: string, raw: string): BreakerState {
  const v = JSON.parse(raw) as Partial<Record<keyof BreakerState, unknown>>;
  if (typeof v.phase !== 'string' || !PHASES.has(v.phase)) throw new Error(`malformed breaker state for ${provider}`);
  return {
    phase: v.phase as BreakerPhase,
    consecutiveFailures: Number(v.consecutiveFailures ?? 0),
    consecutiveSuccesses: Number(v.consecutiveSuccesses ?? 0),
    openedAtMs: Number(v.openedAtMs ?? 0),
  };
}

export class RedisBreakerStore implements BreakerStateStore {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    opts: RedisBreakerStoreOptions = {},
  ) {
    this.key = `${opts.prefix ?? 'gw:'}breakers`;
  }

  async get(provider: string): Promise<BreakerState> {
    const raw = await this.redis.hget(this.key, provider);
    return raw === null ? CLOSED : parse(provider, raw);
  }

  async put(provider: string, state: BreakerState): Promise<void> {
    const { phase, consecutiveFailures, consecutiveSuccesses, openedAtMs } = state;
    await this.redis.hset(this.key, provider, JSON.stringify({ phase, consecutiveFailures, consecutiveSuccesses, openedAtMs }));
  }

  async all(): Promise<Record<string, BreakerState>> {
    const fields = await this.redis.hgetall(this.key);
    return Object.fromEntries(Object.entries(fields).map(([provider, raw]) => [provider, parse(provider, raw)]));
  }
}
