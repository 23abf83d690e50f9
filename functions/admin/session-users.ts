// The user behind a console session, re-read from the store at most every few seconds: a session
// acts with the user's current role, and a deleted user's or changed password's session ends
// within that bound on every instance (at once on the instance that made the change, which
// forgets its copy; see `forgettingUsers`).
import type { AdminUser, AdminUserRepository } from '../core/ports';

/** How stale a user read for a session may be. */
export const SESSION_USER_TTL_MS = 5000;
/** Users kept at once; more are simply read again. */
const MAX_CACHED = 1000;

export class SessionUsers {
  private readonly cache = new Map<string, { user: AdminUser | null; readAtMs: number }>();

  constructor(
    private readonly users: AdminUserRepository,
    private readonly now: () => number,
  ) {}

  async get(username: string): Promise<AdminUser | null> {
    const nowMs = this.now();
    const hit = this.cache.get(username);
    if (hit && nowMs - hit.readAtMs < SESSION_USER_TTL_MS) return hit.user;
    const user = await this.users.get(username);
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(username, { user, readAtMs: nowMs });
    return user;
  }

  forget(username: string): void {
    this.cache.delete(username);
  }
}

/** The repository, forgetting a user's cached copy whenever this instance changes or deletes them. */
export function forgettingUsers(users: AdminUserRepository, sessions: SessionUsers): AdminUserRepository {
  return {
    get: (username) => users.get(username),
    list: () => users.list(),
    create: (user) => users.create(user),
    async update(user) {
      const updated = await users.update(user);
      sessions.forget(user.username);
      return updated;
    },
    async delete(username) {
      const deleted = await users.delete(username);
      sessions.forget(username);
      return deleted;
    },
  };
}
