// The ResponseStore contract, run against every backend (response-store-backends.test.ts). Expiry
// follows the caller's nowMs on every backend; Redis also expires keys itself (EXPIRE), which
// the backend test checks on the key, since a redis-server's clock cannot be moved.
import { StoredResponseTooLarge, type ResponseStore, type StoredResponse } from '../../functions/core/ports';
import type { StoreUnderTest } from './tenant-repository.contract';

const T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const TTL = 3600;

/** A record as the gateway stores one: the response object and the conversation, both JSON text. */
export function storedResponse(tenantId: string, id: string, extra: Partial<StoredResponse> = {}): StoredResponse {
  return {
    tenant_id: tenantId,
    id,
    created_at: T0 / 1000,
    response_json: JSON.stringify({
      id,
      object: 'response',
      status: 'completed',
      output: [{ type: 'message', content: [{ type: 'output_text', text: 'héllo ✓' }] }],
    }),
    messages_json: JSON.stringify([
      { role: 'user', content: 'Say hello' },
      { role: 'assistant', content: 'héllo ✓' },
    ]),
    ...extra,
  };
}

/**
 * A record of exactly `bytes` UTF-8 bytes, of two-, three- and four-byte characters, so a backend
 * that cuts the record into pieces cuts through characters.
 */
export function recordOfBytes(tenantId: string, id: string, bytes: number): StoredResponse {
  const response_json = JSON.stringify({ id, object: 'response' });
  const filler = 'é✓😀'; // 2 + 3 + 4 bytes
  const room = bytes - Buffer.byteLength(response_json) - 4; // `["` and `"]`
  let text = filler.repeat(Math.floor(room / 9));
  text += 'x'.repeat(room - Buffer.byteLength(text));
  return { tenant_id: tenantId, id, created_at: T0 / 1000, response_json, messages_json: `["${text}"]` };
}

export function responseStoreContract(name: string, makeStore: () => Promise<StoreUnderTest<ResponseStore>>): void {
  describe(`ResponseStore contract: ${name}`, () => {
    let store: ResponseStore;
    let under: StoreUnderTest<ResponseStore>;

    beforeEach(async () => {
      under = await makeStore();
      store = under.repo;
    });
    afterEach(async () => {
      await under.cleanup();
    });

    it('has nothing for an unknown id, and deleting it answers false', async () => {
      expect(await store.get('tenant-a', 'resp_missing', T0)).toBeNull();
      expect(await store.delete('tenant-a', 'resp_missing', T0)).toBe(false);
    });

    it('returns the record as it was put', async () => {
      const record = storedResponse('tenant-a', 'resp_1');
      await store.put(record, TTL, T0);
      expect(await store.get('tenant-a', 'resp_1', T0)).toEqual(record);
    });

    it('deletes a record once: then it is gone and a second delete answers false', async () => {
      await store.put(storedResponse('tenant-a', 'resp_1'), TTL, T0);
      expect(await store.delete('tenant-a', 'resp_1', T0)).toBe(true);
      expect(await store.get('tenant-a', 'resp_1', T0)).toBeNull();
      expect(await store.delete('tenant-a', 'resp_1', T0)).toBe(false);
    });

    it("never lets a tenant read or delete another tenant's record", async () => {
      const mine = storedResponse('tenant-a', 'resp_1');
      await store.put(mine, TTL, T0);
      expect(await store.get('tenant-b', 'resp_1', T0)).toBeNull();
      expect(await store.delete('tenant-b', 'resp_1', T0)).toBe(false);
      expect(await store.get('tenant-a', 'resp_1', T0)).toEqual(mine);
    });

    it('keeps the same id of two tenants apart', async () => {
      const a = storedResponse('tenant-a', 'resp_1');
      const b = storedResponse('tenant-b', 'resp_1', { response_json: '{"id":"resp_1","owner":"b"}' });
      await store.put(a, TTL, T0);
      await store.put(b, TTL, T0);
      expect(await store.delete('tenant-b', 'resp_1', T0)).toBe(true);
      expect(await store.get('tenant-a', 'resp_1', T0)).toEqual(a);
    });

    it('cannot be led to another tenant by separators in the tenant or the id', async () => {
      // Joined naively, ("a#b", "c") and ("a", "b#c") would be one key; so would ":" or "/" forms.
      await store.put(storedResponse('a#b', 'c'), TTL, T0);
      await store.put(storedResponse('a:b', 'c'), TTL, T0);
      await store.put(storedResponse('a/b', 'c'), TTL, T0);
      expect(await store.get('a', 'b#c', T0)).toBeNull();
      expect(await store.get('a', 'b:c', T0)).toBeNull();
      expect(await store.get('a', 'b/c', T0)).toBeNull();
      expect(await store.get('a', 'b%23c', T0)).toBeNull();
      expect(await store.delete('a', 'b#c', T0)).toBe(false);
      expect((await store.get('a#b', 'c', T0))?.tenant_id).toBe('a#b');
    });

    it('expires a record after its TTL by the caller’s clock; an expired one cannot be deleted', async () => {
      await store.put(storedResponse('tenant-a', 'resp_1'), TTL, T0);
      await store.put(storedResponse('tenant-a', 'resp_2'), TTL, T0);
      expect(await store.get('tenant-a', 'resp_1', T0 + TTL * 1000 - 1)).not.toBeNull();
      expect(await store.get('tenant-a', 'resp_1', T0 + TTL * 1000)).toBeNull();
      expect(await store.delete('tenant-a', 'resp_2', T0 + TTL * 1000)).toBe(false);
    });

    it('replaces a record of the same tenant and id, with the new TTL', async () => {
      await store.put(storedResponse('tenant-a', 'resp_1'), 10, T0);
      const newer = storedResponse('tenant-a', 'resp_1', { response_json: '{"id":"resp_1","status":"incomplete"}' });
      await store.put(newer, TTL, T0 + 5_000);
      expect(await store.get('tenant-a', 'resp_1', T0 + 60_000)).toEqual(newer);
    });

    it('keeps a record of exactly the largest size it takes, multi-byte characters intact', async () => {
      const large = recordOfBytes('tenant-a', 'resp_large', store.maxRecordBytes);
      await store.put(large, TTL, T0);
      const read = await store.get('tenant-a', 'resp_large', T0);
      expect(read?.messages_json.length).toBe(large.messages_json.length);
      expect(read).toEqual(large);
      expect(await store.delete('tenant-a', 'resp_large', T0)).toBe(true);
      expect(await store.get('tenant-a', 'resp_large', T0)).toBeNull();
    });

    it('replaces a large record with a small one and a small one with a large one', async () => {
      const large = recordOfBytes('tenant-a', 'resp_1', store.maxRecordBytes);
      const small = storedResponse('tenant-a', 'resp_1');
      await store.put(large, TTL, T0);
      await store.put(small, TTL, T0);
      expect(await store.get('tenant-a', 'resp_1', T0)).toEqual(small);
      await store.put(large, TTL, T0);
      expect(await store.get('tenant-a', 'resp_1', T0)).toEqual(large);
    });

    it('refuses a record one byte over the largest, naming the sizes, and stores nothing of it', async () => {
      const over = recordOfBytes('tenant-a', 'resp_over', store.maxRecordBytes + 1);
      const refused = store.put(over, TTL, T0);
      await expect(refused).rejects.toBeInstanceOf(StoredResponseTooLarge);
      await expect(refused).rejects.toMatchObject({ bytes: store.maxRecordBytes + 1, maxBytes: store.maxRecordBytes });
      expect(await store.get('tenant-a', 'resp_over', T0)).toBeNull();
    });
  });
}
