// Monthly budget accounts in Redis: one hash per tenant and month, <prefix>budget:<tenant>:<YYYY-MM>
// with `outstanding` (spent plus reserved), `spent`, and one field `r_<id>` per named reservation
// (its amount, or "void" once fenced), money in units of 1e-10 USD. Every change is one Lua script
// (atomic in Redis) deciding as core/budget-change.ts does, so concurrent instances never reserve
// past the budget and a repeated call never applies twice.
import type { Redis } from 'ioredis';
import { LedgerCallNotSent, type BudgetChange, type BudgetLedger, type Reservation } from '../../core/ports';
import { VOID_HOLD } from '../../core/budget-change';
import { fromUnits, toUnits } from './money';

/** Accounts are kept for a while after their month, then expire (fence markers with them). */
const KEEP_MS = 45 * 24 * 3600 * 1000;

// KEYS[1] account. ARGV: 1 from id ('' none), 2 from amount ('' unconfirmed), 3 to id ('' none),
// 4 to amount, 5 spent, 6 limit ('' none), 7 force (1/0), 8 expiry ms, 9 the void marker.
// Returns {status, spent}: 1 applied, 2 applied before (a repeated call), 0 refused.
const CHANGE = `
local key, void = KEYS[1], ARGV[9]
local fromId, fromAmt, toId, toAmt = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local sp = tonumber(ARGV[5])
local function spent() return redis.call('HGET', key, 'spent') or '0' end
local release = 0
if fromId ~= '' then
  local held = redis.call('HGET', key, 'r_' .. fromId)
  if fromAmt == '' then
    if held == void then return {2, spent()} end
    if held then release = tonumber(held) end
  else
    if not held then return {2, spent()} end
    if held ~= fromAmt then return redis.error_reply('budget reservation ' .. fromId .. ' holds ' .. held .. ', not ' .. fromAmt) end
    release = tonumber(held)
  end
end
local add = 0
if toId ~= '' then
  local held = redis.call('HGET', key, 'r_' .. toId)
  if held == void then return {0, spent()} end
  if held then return {2, spent()} end
  add = tonumber(toAmt)
end
if ARGV[6] ~= '' and ARGV[7] ~= '1' then
  local base = tonumber(redis.call('HGET', key, 'outstanding') or '0') - release + sp
  local limit = tonumber(ARGV[6])
  if base >= limit or base + add > limit then return {0, spent()} end
end
if fromId ~= '' then
  -- An unconfirmed reservation, live or never made, stays fenced: a repeat of this call and a
  -- reserve still on its way both find it done.
  if fromAmt == '' then redis.call('HSET', key, 'r_' .. fromId, void) else redis.call('HDEL', key, 'r_' .. fromId) end
end
if toId ~= '' then redis.call('HSET', key, 'r_' .. toId, toAmt) end
redis.call('HINCRBY', key, 'outstanding', string.format('%d', sp + add - release))
redis.call('HINCRBY', key, 'spent', ARGV[5])
redis.call('PEXPIRE', key, ARGV[8])
return {1, spent()}
`;

// KEYS[1] account; ARGV[1] reservation id, ARGV[2] expiry ms, ARGV[3] the void marker.
// Returns the reservation's amount if it was made, else nil (and it never can be now).
const FENCE = `
local field = 'r_' .. ARGV[1]
local held = redis.call('HGET', KEYS[1], field)
if held == ARGV[3] then return false end
if held then return held end
redis.call('HSET', KEYS[1], field, ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return false
`;

export interface RedisBudgetLedgerOptions {
  prefix?: string;
}

export class RedisBudgetLedger implements BudgetLedger {
  private readonly prefix: string;

  constructor(
    private readonly redis: Redis,
    opts: RedisBudgetLedgerOptions = {},
  ) {
    this.prefix = opts.prefix ?? 'gw:';
  }

  private key(tenantId: string, period: string): string {
    return `${this.prefix}budget:${tenantId}:${period}`;
  }

  /** A script call; one refused for want of a connection (no offline queue) was never sent. */
  private async eval(script: string, key: string, ...args: Array<string | number>): Promise<unknown> {
    try {
      return await this.redis.eval(script, 1, key, ...args);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith("Stream isn't writeable")) throw new LedgerCallNotSent(err.message);
      throw err;
    }
  }

  async change(tenantId: string, period: string, c: BudgetChange): Promise<Reservation> {
    const out = await this.eval(
      CHANGE,
      this.key(tenantId, period),
      c.from?.id ?? '',
      c.from?.amount === undefined ? '' : toUnits(c.from.amount),
      c.to?.id ?? '',
      c.to ? toUnits(c.to.amount) : 0,
      toUnits(c.spent),
      c.limit === undefined ? '' : toUnits(c.limit),
      c.force ? 1 : 0,
      KEEP_MS,
      VOID_HOLD,
    );
    if (!Array.isArray(out) || out.length !== 2) throw new Error('unexpected reply from the budget script');
    return { admitted: Number(out[0]) !== 0, committed: fromUnits(out[1] as string) };
  }

  async fence(tenantId: string, period: string, id: string): Promise<number | undefined> {
    const out = await this.eval(FENCE, this.key(tenantId, period), id, KEEP_MS, VOID_HOLD);
    return out === null ? undefined : fromUnits(out as string);
  }
}
