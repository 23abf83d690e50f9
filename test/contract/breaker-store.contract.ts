// The BreakerStateStore contract, run against every backend.
import { CLOSED } from '../../functions/core/breaker';
import type { BreakerState, BreakerStateStore } from '../../functions/core/ports';
import type { StoreUnderTest } from './tenant-repository.contract';

const OPEN: BreakerState = { phase: 'open', consecutiveFailures: 5, consecutiveSuccesses: 0, openedAtMs: 1_767_225_600_000 };
const HALF: BreakerState = { phase: 'half_open', consecutiveFailures: 5, consecutiveSuccesses: 1, openedAtMs: 1_767_225_600_000 };

export function breakerStoreContract(name: string, makeStore: () => Promise<StoreUnderTest<BreakerStateStore>>): void {
  describe(`BreakerStateStore contract: ${name}`, () => {
    let store: BreakerStateStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ repo: store, cleanup } = await makeStore());
    });
    afterEach(async () => {
      await cleanup();
    });

    it('reports an unknown provider as closed, and nothing in all()', async () => {
      expect(await store.get('openai')).toEqual(CLOSED);
      expect(await store.all()).toEqual({});
    });

    it("keeps each provider's latest state", async () => {
      await store.put('openai', OPEN);
      await store.put('anthropic', { ...CLOSED, consecutiveFailures: 2 });
      await store.put('openai', HALF);
      expect(await store.get('openai')).toEqual(HALF);
      expect(await store.get('anthropic')).toEqual({ ...CLOSED, consecutiveFailures: 2 });
      expect(await store.get('bedrock')).toEqual(CLOSED);
      expect(await store.all()).toEqual({ openai: HALF, anthropic: { ...CLOSED, consecutiveFailures: 2 } });
    });
  });
}
