// The AdminUserRepository contract, run against every backend.
import { StoreConflictError, type AdminUser, type AdminUserRepository } from '../../functions/core/ports';
import type { StoreUnderTest } from './tenant-repository.contract';

const user = (username: string, extra: Partial<AdminUser> = {}): AdminUser => ({
  username,
  role: 'viewer',
  password_hash: `scrypt$16384$8$1$c2FsdA==$${username}`,
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
  ...extra,
});

export function adminUserRepositoryContract(name: string, makeRepo: () => Promise<StoreUnderTest<AdminUserRepository>>): void {
  describe(`AdminUserRepository contract: ${name}`, () => {
    let repo: AdminUserRepository;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ repo, cleanup } = await makeRepo());
    });
    afterEach(async () => {
      await cleanup();
    });

    it('creates, gets and lists users; unknown names are null', async () => {
      expect(await repo.list()).toEqual([]);
      await repo.create(user('alice', { role: 'admin' }));
      await repo.create(user('bob'));
      expect(await repo.get('alice')).toEqual(user('alice', { role: 'admin' }));
      expect(await repo.get('carol')).toBeNull();
      expect((await repo.list()).sort((a, b) => a.username.localeCompare(b.username))).toEqual([user('alice', { role: 'admin' }), user('bob')]);
    });

    it('refuses a duplicate username and keeps the first', async () => {
      await repo.create(user('alice', { role: 'admin' }));
      await expect(repo.create(user('alice', { role: 'viewer' }))).rejects.toBeInstanceOf(StoreConflictError);
      expect((await repo.get('alice'))?.role).toBe('admin');
    });

    it('updates an existing user; an unknown one is false and not created', async () => {
      await repo.create(user('alice'));
      const changed = user('alice', { role: 'editor', password_hash: 'scrypt$16384$8$1$bmV3$new', updated_at: '2026-02-01T00:00:00.000Z' });
      expect(await repo.update(changed)).toBe(true);
      expect(await repo.get('alice')).toEqual(changed);
      expect(await repo.update(user('ghost'))).toBe(false);
      expect(await repo.get('ghost')).toBeNull();
    });

    it('deletes a user once', async () => {
      await repo.create(user('alice'));
      expect(await repo.delete('alice')).toBe(true);
      expect(await repo.get('alice')).toBeNull();
      expect(await repo.delete('alice')).toBe(false);
      expect(await repo.list()).toEqual([]);
    });

    it('hands out copies', async () => {
      await repo.create(user('alice'));
      const got = await repo.get('alice');
      got!.role = 'admin';
      expect((await repo.get('alice'))?.role).toBe('viewer');
    });
  });
}
