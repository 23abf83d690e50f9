// Cooldowns after an upstream's retry hint: how long one may last, and whether a request that no
// other target can serve may wait one out once. That wait is billed on Lambda (the function runs
// while it sleeps), so it is off there unless COOLDOWN_RETRY turns it on; on elsewhere.
import * as v from 'valibot';
import { boolean, nonNegativeInt, readEnv, type Env } from './env';

export interface CooldownSettings {
  cooldowns: {
    /** The longest cooldown a hint may start (COOLDOWN_MAX_SECONDS; 0: none is started). */
    maxMs: number;
    /** Whether a request no other target can serve may wait out a cooldown once (COOLDOWN_RETRY). */
    retry: boolean;
  };
}

/** An hour: a longer hint is an upstream's mistake or a day-long quota, which the breaker and 429s handle. */
const MAX_COOLDOWN_SECONDS = 3600;

const CooldownEnv = v.object({
  COOLDOWN_MAX_SECONDS: v.optional(nonNegativeInt(MAX_COOLDOWN_SECONDS), '60'),
  COOLDOWN_RETRY: v.optional(boolean),
  /** Set by the Lambda runtime: the default of COOLDOWN_RETRY. */
  AWS_LAMBDA_FUNCTION_NAME: v.optional(v.string()),
});

export function loadCooldownSettings(env: Env): CooldownSettings {
  const e = readEnv(env, CooldownEnv);
  return { cooldowns: { maxMs: e.COOLDOWN_MAX_SECONDS * 1000, retry: e.COOLDOWN_RETRY ?? e.AWS_LAMBDA_FUNCTION_NAME === undefined } };
}
