// First admin: created only when there is no admin user at all, so a configured password never
// overwrites a later change. Locally the caller passes ADMIN_PASSWORD or the seed's "admin".
import { StoreConflictError, type AdminUserRepository } from '../core/ports';
import { hashPassword } from './passwords';

export interface BootstrapOptions {
  username?: string;
  password: string;
  now?: () => number;
}

/** Returns true when it created the user, false when some user already existed. */
export async function ensureBootstrapAdmin(users: AdminUserRepository, opts: BootstrapOptions): Promise<boolean> {
  if ((await users.list()).length > 0) return false;
  const at = new Date((opts.now ?? Date.now)()).toISOString();
  try {
    await users.create({
      username: opts.username ?? 'admin',
      role: 'admin',
      // The seed's documented default "admin" is shorter than the 12 characters the API demands
      // of new passwords; bootstrap accepts it so `admin:admin` works as documented.
      password_hash: await hashPassword(opts.password),
      created_at: at,
      updated_at: at,
    });
    return true;
  } catch (err) {
    if (err instanceof StoreConflictError) return false; // another instance bootstrapped first
    throw err;
  }
}
