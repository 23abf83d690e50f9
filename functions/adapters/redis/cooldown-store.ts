// Cooldowns in Redis: one hash, <prefix>cooldowns, field <deployment> → the cooldown as JSON, so
// that every running cooldown is one HGETALL. A put is one script: it keeps a cooldown that ends
// later, drops the ended ones, and lets the hash expire when the last cooldown in it ends.
import type { Redis } from 'ioredis';
import type { Cooldown, CooldownStore } from '../../core/ports';

export interface RedisCooldownStoreOptions {
  prefix?: string;
}

// KEYS[1] hash; ARGV: deployment, untilMs, cooldown JSON, nowMs.
const PUT = `
local now = tonumber(ARGV[4])
local latest = tonumber(ARGV[2])
local running = redis.call('HGET', KEYS[1], ARGV[1])
if running and tonumber(cjson.decode(running).untilMs) >= latest then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local until_ms = tonumber(cjson.decode(fields[i + 1]).untilMs)
  if until_ms <= now then redis.call('HDEL', KEYS[1], fields[i])
  elseif until_ms > latest then latest = until_ms end
end
redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil(latest - now)))
return 1
`;

function parse(deployment: string, raw: string): Cooldown {
  const v = JSON.parse(raw) as Partial<Record<keyof Cooldown, unknown>>;
  if (typeof v.untilMs !== 'number' || typeof v.header !== 'string') throw new Error(`malformed cooldown for ${deployment}`);
  return { untilMs: v.untilMs, status: Number(v.status ?? 429), header: v.header };
}

export class RedisCooldownStore implements CooldownStore {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    opts: RedisCooldownStoreOptions = {},
  ) {
    this.key = `${opts.prefix ?? 'gw:'}cooldowns`;
  }

  async put(deployment: string, cooldown: Cooldown, nowMs: number): Promise<void> {
    const { untilMs, status, header } = cooldown;
    await this.redis.eval(PUT, 1, this.key, deployment, String(untilMs), JSON.stringify({ untilMs, status, header }), String(nowMs));
  }

  async active(nowMs: number): Promise<Record<string, Cooldown>> {
    const fields = await this.redis.hgetall(this.key);
    const running: Record<string, Cooldown> = {};
    for (const [deployment, raw] of Object.entries(fields)) {
      const cooldown = parse(deployment, raw);
      if (cooldown.untilMs > nowMs) running[deployment] = cooldown;
    }
    return running;
  }
}
