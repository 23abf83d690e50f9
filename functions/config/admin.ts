// The admin API's own switches.
import * as v from 'valibot';
import { boolean, readEnv, type Env } from './env';

export interface AdminSettings {
  admin: { authEnabled: boolean; password?: string };
}

const AdminEnv = v.object({
  ADMIN_AUTH_ENABLED: v.optional(boolean, 'false'),
  ADMIN_PASSWORD: v.optional(v.string()),
});

export function loadAdminSettings(env: Env): AdminSettings {
  const e = readEnv(env, AdminEnv);
  return { admin: { authEnabled: e.ADMIN_AUTH_ENABLED, password: e.ADMIN_PASSWORD } };
}
