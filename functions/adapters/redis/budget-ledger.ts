// Monthly budget accounts in Redis: one hash per tenant and month, <prefix>budget:<tenant>:<YYYY-MM>
// with `outstanding` (spent plus reserved) and `spent`, in units of 1e-10 USD. A reservation is one
// Lua script (atomic in Redis), so concurrent instances never reserve past the budget.
import type { Redis } from 'ioredis';
import type { BudgetLedger, Reservation } from '../../core/budget';
import { fromUnits, toUnits } from './money';

/** Accounts are kept for a while after their month, then expire. */
const KEEP_MS = 45 * 24 * 3600 * 1000;

// KEYS[1] account; ARGV[1] amount, ARGV[2] limit, ARGV[3] force (1/0), ARGV[4] expiry ms.
// Returns {admitted 0|1, spent}.
const RESERVE = `
local outstanding = tonumber(redis.call('HGET', KEYS[1], 'outstanding') or '0')
local amount = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
if ARGV[3] ~= '1' and (outstanding >= limit or outstanding + amount > limit) then
  return {0, redis.call('HGET', KEYS[1], 'spent') or '0'}
end
redis.call('HINCRBY', KEYS[1], 'outstanding', amount)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {1, redis.call('HGET', KEYS[1], 'spent') or '0'}
`;

export interface RedisBudgetLedgerOptions {
  prefix?: string;
}

export class RedisBudgetLedger implements BudgetLedger {
  private readonly prefix: string;

  constructor(private readonly redis: Redis, opts: RedisBudgetLedgerOptions = {}) {
    this.prefix = opts.prefix ?? 'gw:';
  }

  private key(tenantId: string, period: string): string {
    return `${this.prefix}budget:${tenantId}:${period}`;
  }

  async reserve(tenantId: string, period: string, amount: number, limit: number, force: boolean): Promise<Reservation> {
    const out = await this.redis.eval(RESERVE, 1, this.key(tenantId, period), toUnits(amount), toUnits(limit), force ? 1 : 0, KEEP_MS);
    if (!Array.isArray(out) || out.length !== 2) throw new Error('unexpected reply from the budget script');
    return { admitted: Number(out[0]) === 1, committed: fromUnits(out[1] as string) };
  }

  async settle(tenantId: string, period: string, reserved: number, actual: number): Promise<void> {
    const key = this.key(tenantId, period);
    const out = await this.redis.multi()
      .hincrby(key, 'outstanding', toUnits(actual) - toUnits(reserved))
      .hincrby(key, 'spent', toUnits(actual))
      .pexpire(key, KEEP_MS)
      .exec();
    const failed = out?.find(([err]) => err !== null);
    if (out === null || failed) throw failed?.[0] ?? new Error('the budget settlement transaction was aborted');
  }
}
