// The admin API's own switches, its console sessions and where the console's files are.
import * as v from 'valibot';
import { boolean, readEnv, type Env } from './env';
import { ConfigError } from './error';

export interface AdminSettings {
  admin: {
    authEnabled: boolean;
    password?: string;
    /** ADMIN_SESSION_SECRET: the key material console session tokens are signed with; derived or random when absent. */
    sessionSecret?: string;
    /** ADMIN_SESSION_TTL: how long a console session lasts, in seconds. */
    sessionTtlSeconds: number;
    /** CONSOLE_DIR: the built console's files; the runtime's default when absent. */
    consoleDir?: string;
  };
}

/** Eight hours: a working day, after which the console asks for the password again. */
export const DEFAULT_SESSION_TTL_SECONDS = 8 * 3600;
const MAX_SESSION_TTL_SECONDS = 7 * 24 * 3600;

const AdminEnv = v.object({
  ADMIN_AUTH_ENABLED: v.optional(boolean, 'false'),
  ADMIN_PASSWORD: v.optional(v.string()),
  ADMIN_SESSION_SECRET: v.optional(v.string()),
  ADMIN_SESSION_TTL: v.optional(
    v.message(
      v.pipe(v.string(), v.transform(Number), v.integer(), v.minValue(60), v.maxValue(MAX_SESSION_TTL_SECONDS)),
      `must be a whole number of seconds from 60 to ${MAX_SESSION_TTL_SECONDS}`,
    ),
  ),
  CONSOLE_DIR: v.optional(v.string()),
});

/** Key material shorter than this is refused: a guessable key lets anyone forge a session. */
const MIN_SESSION_SECRET_LENGTH = 32;

export function loadAdminSettings(env: Env): AdminSettings {
  const e = readEnv(env, AdminEnv);
  // Checked here rather than in the schema, whose message would quote the value.
  if (e.ADMIN_SESSION_SECRET !== undefined && e.ADMIN_SESSION_SECRET.length < MIN_SESSION_SECRET_LENGTH) {
    throw new ConfigError(`ADMIN_SESSION_SECRET must be at least ${MIN_SESSION_SECRET_LENGTH} characters (its value is not shown)`);
  }
  return {
    admin: {
      authEnabled: e.ADMIN_AUTH_ENABLED,
      password: e.ADMIN_PASSWORD,
      sessionSecret: e.ADMIN_SESSION_SECRET,
      sessionTtlSeconds: e.ADMIN_SESSION_TTL ?? DEFAULT_SESSION_TTL_SECONDS,
      consoleDir: e.CONSOLE_DIR,
    },
  };
}
