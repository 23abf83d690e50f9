// The Responses API's writes of stored responses, over the memory store: written after the
// current turn of the event loop (off the client's path), yet a read or a delete on the same
// instance never misses a write still under way, and flush() resolves once every write is in.
import { MemoryResponseStore } from '../../functions/adapters/memory/response-store';
import { ResponseKeeper } from '../../functions/core/ingress/openai-responses';
import { silentLogger } from '../../functions/core/logger';
import type { StoredResponse } from '../../functions/core/ports';

const T0 = 1_767_225_600_000;
const record = (tenantId: string, id: string): StoredResponse => ({
  tenant_id: tenantId,
  id,
  created_at: T0 / 1000,
  response_json: JSON.stringify({ id, object: 'response' }),
  messages_json: '[{"role":"user","content":"hi"}]',
});

describe('ResponseKeeper', () => {
  let now: number;
  let store: MemoryResponseStore;
  let keeper: ResponseKeeper;
  beforeEach(() => {
    now = T0;
    store = new MemoryResponseStore();
    keeper = new ResponseKeeper(store, 60, () => now, silentLogger);
  });

  it('builds and writes the record only after the current turn, so the answer goes out first', async () => {
    let built = false;
    keeper.keep('t', 'resp_1', () => {
      built = true;
      return record('t', 'resp_1');
    });
    expect(built).toBe(false);
    expect(await store.get('t', 'resp_1', now)).toBeNull();
    await keeper.flush();
    expect(built).toBe(true);
    expect(await store.get('t', 'resp_1', now)).toEqual(record('t', 'resp_1'));
  });

  it('a read or a delete right after keep waits for the write instead of missing it', async () => {
    keeper.keep('t', 'resp_1', () => record('t', 'resp_1'));
    expect(await keeper.get('t', 'resp_1', now)).toEqual(record('t', 'resp_1'));
    keeper.keep('t', 'resp_2', () => record('t', 'resp_2'));
    expect(await keeper.delete('t', 'resp_2', now)).toBe(true);
    expect(await keeper.get('t', 'resp_2', now)).toBeNull();
  });

  it('keeps each record for the TTL from when it is written, for its tenant only', async () => {
    keeper.keep('t', 'resp_1', () => record('t', 'resp_1'));
    await keeper.flush();
    expect(await keeper.get('other', 'resp_1', now)).toBeNull();
    now = T0 + 59_000;
    expect(await keeper.get('t', 'resp_1', now)).not.toBeNull();
    now = T0 + 61_000;
    expect(await keeper.get('t', 'resp_1', now)).toBeNull();
  });
});
