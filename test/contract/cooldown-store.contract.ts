// The CooldownStore contract, run against every backend: a running cooldown is seen by every peer
// on the same backend, ends when its time is up, and is never shortened by a shorter hint.
import type { Cooldown, CooldownStore } from '../../functions/core/ports';
import type { StoreUnderTest } from './tenant-repository.contract';

export interface CooldownStoreUnderTest extends StoreUnderTest<CooldownStore> {
  /** Another instance's store on the same backend (memory: the same one). */
  peer(): Promise<CooldownStore>;
}

const T0 = 1_767_225_600_000;
const rateLimited = (untilMs: number, header = 'retry-after'): Cooldown => ({ untilMs, status: 429, header });

export function cooldownStoreContract(name: string, makeStore: () => Promise<CooldownStoreUnderTest>): void {
  describe(`CooldownStore contract: ${name}`, () => {
    let store: CooldownStore;
    let peer: CooldownStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      const made = await makeStore();
      ({ repo: store, cleanup } = made);
      peer = await made.peer();
    });
    afterEach(async () => {
      await cleanup();
    });

    it('has nothing running at first', async () => {
      expect(await store.active(T0)).toEqual({});
    });

    it('shows a cooldown to every peer until it ends, each deployment on its own', async () => {
      await store.put('openai/gpt-4o', rateLimited(T0 + 20_000), T0);
      await store.put('anthropic/claude-haiku-4-5', { untilMs: T0 + 5000, status: 503, header: 'anthropic-ratelimit-requests-reset' }, T0);
      expect(await peer.active(T0 + 1000)).toEqual({
        'openai/gpt-4o': rateLimited(T0 + 20_000),
        'anthropic/claude-haiku-4-5': { untilMs: T0 + 5000, status: 503, header: 'anthropic-ratelimit-requests-reset' },
      });
      expect(await peer.active(T0 + 5000)).toEqual({ 'openai/gpt-4o': rateLimited(T0 + 20_000) });
      expect(await store.active(T0 + 20_000)).toEqual({});
    });

    it('keeps the later end: a shorter hint never shortens a cooldown, a longer one extends it', async () => {
      await store.put('groq/llama-3.1-8b-instant', rateLimited(T0 + 20_000), T0);
      await peer.put('groq/llama-3.1-8b-instant', rateLimited(T0 + 2000, 'retry-after-ms'), T0 + 1000);
      expect(await store.active(T0 + 3000)).toEqual({ 'groq/llama-3.1-8b-instant': rateLimited(T0 + 20_000) });
      await peer.put('groq/llama-3.1-8b-instant', rateLimited(T0 + 40_000, 'x-ratelimit-reset-tokens'), T0 + 3000);
      expect(await store.active(T0 + 30_000)).toEqual({ 'groq/llama-3.1-8b-instant': rateLimited(T0 + 40_000, 'x-ratelimit-reset-tokens') });
    });

    it('starts a new cooldown for a deployment whose last one ended', async () => {
      await store.put('openai/gpt-4o', rateLimited(T0 + 1000), T0);
      await store.put('openai/gpt-4o', rateLimited(T0 + 61_000), T0 + 60_000);
      expect(await peer.active(T0 + 60_000)).toEqual({ 'openai/gpt-4o': rateLimited(T0 + 61_000) });
    });
  });
}
