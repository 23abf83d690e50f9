// The TenantRepository contract: every backend (memory, DynamoDB) must pass this same suite.
import { StoreConflictError, type TenantRecord, type TenantRepository } from '../../functions/core/ports';
import { DEFAULT_TENANT, hashApiKey } from '../../functions/core/tenants';

export interface StoreUnderTest<R> {
  repo: R;
  cleanup(): Promise<void>;
}

const T = '2026-01-01T00:00:00.000Z';
const DAY = 86_400_000;

function record(id: string, keys: Array<string | { key: string; expires_at: string }>, extra: Partial<TenantRecord> = {}): TenantRecord {
  return {
    ...DEFAULT_TENANT,
    id,
    name: `Tenant ${id}`,
    created_at: T,
    updated_at: T,
    keys: keys.map((k) => {
      const key = typeof k === 'string' ? k : k.key;
      return { hash: hashApiKey(key), prefix: key.slice(0, 8), created_at: T, ...(typeof k === 'string' ? {} : { expires_at: k.expires_at }) };
    }),
    version: 1,
    ...extra,
  };
}

/** The record with a change, at the next version (what the admin API writes back). */
function next(r: TenantRecord, change: Partial<TenantRecord>): TenantRecord {
  return { ...r, ...change, version: r.version + 1 };
}

const find = (repo: TenantRepository, key: string) => repo.findByKeyHash(hashApiKey(key));
const iso = (ms: number) => new Date(ms).toISOString();

export function tenantRepositoryContract(name: string, makeRepo: () => Promise<StoreUnderTest<TenantRepository>>): void {
  describe(`TenantRepository contract: ${name}`, () => {
    let repo: TenantRepository;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ repo, cleanup } = await makeRepo());
    });
    afterEach(async () => {
      await cleanup();
    });

    describe('records', () => {
      it('creates, gets and lists tenants; unknown ids are null', async () => {
        const a = record('a', ['gw-a-1'], { default_provider: 'openai', fallback_providers: ['anthropic'], allowed_models: ['gpt-4o'] });
        const b = record('b', ['gw-b-1']);
        await repo.create(a);
        await repo.create(b);
        expect(await repo.get('a')).toEqual(a);
        expect(await repo.get('b')).toEqual(b);
        expect(await repo.get('nope')).toBeNull();
        const all = await repo.list();
        expect(all.sort((x, y) => x.id.localeCompare(y.id))).toEqual([a, b]);
      });

      it('stores a new tenant at version 1', async () => {
        await repo.create(record('a', ['gw-a-1'], { version: 7 }));
        expect((await repo.get('a'))?.version).toBe(1);
      });

      it('lists nothing when empty', async () => {
        expect(await repo.list()).toEqual([]);
      });

      it('hands out copies: changing a returned record does not change the store', async () => {
        await repo.create(record('a', ['gw-a-1']));
        const got = await repo.get('a');
        got!.name = 'changed';
        got!.keys.length = 0;
        expect((await repo.get('a'))?.name).toBe('Tenant a');
        expect((await find(repo, 'gw-a-1'))?.id).toBe('a');
      });

      it('updates a record at the next version', async () => {
        const a = record('a', ['gw-a-1']);
        await repo.create(a);
        const changed = next(a, { name: 'renamed', enabled: false, rate_limit_rpm: 60, updated_at: '2026-02-01T00:00:00.000Z' });
        expect(await repo.update(changed)).toBe(true);
        expect(await repo.get('a')).toEqual(changed);
        expect(await find(repo, 'gw-a-1')).toMatchObject({ id: 'a', name: 'renamed', enabled: false, rate_limit_rpm: 60 });
      });

      it('update of an unknown tenant returns false and creates nothing', async () => {
        expect(await repo.update(record('ghost', ['gw-ghost'], { version: 2 }))).toBe(false);
        expect(await repo.get('ghost')).toBeNull();
        expect(await find(repo, 'gw-ghost')).toBeNull();
      });

      it('deletes a tenant once', async () => {
        await repo.create(record('a', ['gw-a-1']));
        expect(await repo.delete('a')).toBe(true);
        expect(await repo.get('a')).toBeNull();
        expect(await repo.list()).toEqual([]);
        expect(await repo.delete('a')).toBe(false);
      });
    });

    describe('conflicts', () => {
      it('refuses a duplicate id', async () => {
        await repo.create(record('a', ['gw-a-1']));
        await expect(repo.create(record('a', ['gw-a-2']))).rejects.toBeInstanceOf(StoreConflictError);
        expect((await repo.get('a'))?.keys.map((k) => k.hash)).toEqual([hashApiKey('gw-a-1')]);
        expect((await find(repo, 'gw-a-1'))?.id).toBe('a');
        expect(await find(repo, 'gw-a-2')).toBeNull();
      });

      it('refuses a key hash another tenant holds, on create and on update', async () => {
        const a = record('a', ['gw-shared']);
        const b = record('b', ['gw-b-1']);
        await repo.create(a);
        await expect(repo.create(record('c', ['gw-shared']))).rejects.toBeInstanceOf(StoreConflictError);
        expect(await repo.get('c')).toBeNull();
        await repo.create(b);
        await expect(repo.update(next(b, { keys: [...b.keys, ...record('x', ['gw-shared']).keys] }))).rejects.toBeInstanceOf(StoreConflictError);
        expect((await find(repo, 'gw-shared'))?.id).toBe('a');
        expect((await repo.get('b'))?.version).toBe(1);
      });

      it('refuses an update from a stale version', async () => {
        const a = record('a', ['gw-a-1']);
        await repo.create(a);
        expect(await repo.update(next(a, { name: 'first' }))).toBe(true);
        await expect(repo.update(next(a, { name: 'stale' }))).rejects.toBeInstanceOf(StoreConflictError);
        await expect(repo.update({ ...a, name: 'ahead', version: 5 })).rejects.toBeInstanceOf(StoreConflictError);
        expect(await repo.get('a')).toMatchObject({ name: 'first', version: 2 });
      });

      it('lets exactly one of 10 concurrent updates from the same version win', async () => {
        const a = record('a', ['gw-a-1']);
        await repo.create(a);
        const attempts = Array.from({ length: 10 }, (_, i) => next(a, { name: `writer ${i}`, keys: record('a', [`gw-writer-${i}`]).keys }));
        const results = await Promise.allSettled(attempts.map((r) => repo.update(r)));
        const won = results.flatMap((r, i) => (r.status === 'fulfilled' && r.value === true ? [i] : []));
        const lost = results.filter((r) => r.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(9);
        for (const r of lost) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(StoreConflictError);
        const winner = won[0]!;
        expect(await repo.get('a')).toEqual(attempts[winner]);
        // Only the winner's key works; the losers' keys are nobody's and stay free for others.
        for (let i = 0; i < 10; i++) expect((await find(repo, `gw-writer-${i}`))?.id).toBe(i === winner ? 'a' : undefined);
        expect(await find(repo, 'gw-a-1')).toBeNull();
        const loser = (winner + 1) % 10;
        await repo.create(record('b', [`gw-writer-${loser}`]));
        expect((await find(repo, `gw-writer-${loser}`))?.id).toBe('b');
      });
    });

    describe('findByKeyHash', () => {
      it('finds the tenant of a current key, as a Tenant without keys or bookkeeping', async () => {
        const a = record('a', ['gw-a-1', 'gw-a-2'], { default_provider: 'ollama' });
        await repo.create(a);
        const { created_at, updated_at, keys, version, ...tenant } = a;
        expect(await find(repo, 'gw-a-1')).toEqual(tenant);
        expect(await find(repo, 'gw-a-2')).toEqual(tenant);
      });

      it('finds nothing for an unknown key or for the raw key itself', async () => {
        await repo.create(record('a', ['gw-a-1']));
        expect(await find(repo, 'gw-unknown')).toBeNull();
        expect(await repo.findByKeyHash('gw-a-1')).toBeNull();
      });

      it('stops finding a key an update removed, and finds the key it added', async () => {
        const a = record('a', ['gw-old']);
        await repo.create(a);
        await repo.update(next(a, { keys: record('a', ['gw-new']).keys }));
        expect(await find(repo, 'gw-old')).toBeNull();
        expect((await find(repo, 'gw-new'))?.id).toBe('a');
      });

      it('keeps a rotated-out key working until its expires_at, not after', async () => {
        const future = iso(Date.now() + DAY);
        const past = iso(Date.now() - 1000);
        const a = record('a', [{ key: 'gw-graceful', expires_at: future }, { key: 'gw-expired', expires_at: past }, 'gw-current']);
        await repo.create(a);
        expect((await find(repo, 'gw-graceful'))?.id).toBe('a');
        expect(await find(repo, 'gw-expired')).toBeNull();
        expect((await find(repo, 'gw-current'))?.id).toBe('a');
        // An update that moves the grace period into the past ends it.
        await repo.update(next(a, { keys: record('a', [{ key: 'gw-graceful', expires_at: past }, 'gw-current']).keys }));
        expect(await find(repo, 'gw-graceful')).toBeNull();
      });

      it("stops finding a deleted tenant's keys, which another tenant may then use", async () => {
        await repo.create(record('a', ['gw-a-1', 'gw-a-2']));
        await repo.delete('a');
        expect(await find(repo, 'gw-a-1')).toBeNull();
        expect(await find(repo, 'gw-a-2')).toBeNull();
        await repo.create(record('b', ['gw-a-1']));
        expect((await find(repo, 'gw-a-1'))?.id).toBe('b');
      });

      it('lets a key removed from one tenant go to another', async () => {
        const a = record('a', ['gw-moving', 'gw-a-2']);
        await repo.create(a);
        await repo.update(next(a, { keys: record('a', ['gw-a-2']).keys }));
        await repo.create(record('b', ['gw-moving']));
        expect((await find(repo, 'gw-moving'))?.id).toBe('b');
        expect((await find(repo, 'gw-a-2'))?.id).toBe('a');
      });

      it('lets a tenant re-add a key it dropped earlier', async () => {
        const a = record('a', ['gw-back', 'gw-a-2']);
        await repo.create(a);
        const v2 = next(a, { keys: record('a', ['gw-a-2']).keys });
        await repo.update(v2);
        await repo.update(next(v2, { keys: a.keys }));
        expect((await find(repo, 'gw-back'))?.id).toBe('a');
      });
    });
  });
}
