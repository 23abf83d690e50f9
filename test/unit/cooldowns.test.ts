// The cooldown settings, and the in-process cache that keeps the store off the hot path.
import { MemoryCooldownStore } from '../../functions/adapters/memory/cooldown-store';
import { ConfigError } from '../../functions/config';
import { loadCooldownSettings } from '../../functions/config/cooldowns';
import { CancelSignal } from '../../functions/core/cancel';
import { Cooldowns, sleep } from '../../functions/core/cooldowns';
import type { Cooldown, CooldownStore } from '../../functions/core/ports';

describe('COOLDOWN_MAX_SECONDS and COOLDOWN_RETRY', () => {
  test('60 s; the bounded retry on, except on Lambda where a wait is billed', () => {
    expect(loadCooldownSettings({})).toEqual({ cooldowns: { maxMs: 60_000, retry: true } });
    expect(loadCooldownSettings({ AWS_LAMBDA_FUNCTION_NAME: 'chat' })).toEqual({ cooldowns: { maxMs: 60_000, retry: false } });
    expect(loadCooldownSettings({ AWS_LAMBDA_FUNCTION_NAME: 'chat', COOLDOWN_RETRY: 'true' }).cooldowns.retry).toBe(true);
    expect(loadCooldownSettings({ COOLDOWN_RETRY: 'false', COOLDOWN_MAX_SECONDS: '0' })).toEqual({ cooldowns: { maxMs: 0, retry: false } });
  });

  test('a bad value stops the start naming the variable', () => {
    expect(() => loadCooldownSettings({ COOLDOWN_MAX_SECONDS: '-1' })).toThrow(ConfigError);
    expect(() => loadCooldownSettings({ COOLDOWN_MAX_SECONDS: '7200' })).toThrow(/COOLDOWN_MAX_SECONDS/);
    expect(() => loadCooldownSettings({ COOLDOWN_RETRY: 'maybe' })).toThrow(/COOLDOWN_RETRY/);
  });
});

/** A store that counts its reads, as a shared one would count round trips. */
class CountingStore implements CooldownStore {
  reads = 0;
  readonly inner = new MemoryCooldownStore();
  put(deployment: string, cooldown: Cooldown, nowMs: number): Promise<void> {
    return this.inner.put(deployment, cooldown, nowMs);
  }
  active(nowMs: number): Promise<Record<string, Cooldown>> {
    this.reads += 1;
    return this.inner.active(nowMs);
  }
}

describe('Cooldowns', () => {
  let clock = 1_000_000;
  const now = (): number => clock;

  test('the store is read once per second however many requests ask; a cooldown started here is seen at once', async () => {
    const store = new CountingStore();
    const cooldowns = new Cooldowns(store, { maxMs: 60_000, retry: true }, now, sleep);
    await Promise.all(Array.from({ length: 200 }, () => cooldowns.of('openai', 'gpt-4o')));
    expect(store.reads).toBe(1);
    await cooldowns.start('openai', 'gpt-4o', { ms: 20_000, header: 'retry-after' }, false);
    expect(await cooldowns.of('openai', 'gpt-4o')).toEqual({ untilMs: clock + 20_000, status: 429, header: 'retry-after' });
    expect(await cooldowns.of('openai', 'gpt-4o-mini')).toBeUndefined();
    expect(store.reads).toBe(1);
    clock += 1000;
    await cooldowns.of('openai', 'gpt-4o');
    expect(store.reads).toBe(2);
  });

  test('another instance’s cooldown is seen once the cache is older than a second', async () => {
    const store = new MemoryCooldownStore();
    const here = new Cooldowns(store, { maxMs: 60_000, retry: true }, now, sleep);
    const there = new Cooldowns(store, { maxMs: 60_000, retry: true }, now, sleep);
    expect(await here.of('groq', 'llama')).toBeUndefined();
    await there.start('groq', 'llama', { ms: 5000, header: 'retry-after' }, true);
    clock += 1000;
    expect(await here.of('groq', 'llama')).toMatchObject({ status: 503 });
    clock += 4000;
    expect(await here.of('groq', 'llama')).toBeUndefined();
  });

  test('capped at the maximum; none at all with a maximum of 0', async () => {
    const capped = new Cooldowns(new MemoryCooldownStore(), { maxMs: 5000, retry: true }, now, sleep);
    expect(await capped.start('openai', 'gpt-4o', { ms: 600_000, header: 'retry-after' }, false)).toMatchObject({ untilMs: clock + 5000 });
    const off = new Cooldowns(new MemoryCooldownStore(), { maxMs: 0, retry: true }, now, sleep);
    expect(await off.start('openai', 'gpt-4o', { ms: 20_000, header: 'retry-after' }, false)).toBeUndefined();
    expect(await off.of('openai', 'gpt-4o')).toBeUndefined();
  });
});

test('a wait for a cooldown ends as soon as the client leaves', async () => {
  const signal = new CancelSignal();
  const started = Date.now();
  const waiting = sleep(60_000, signal);
  signal.cancel();
  await waiting;
  expect(Date.now() - started).toBeLessThan(1000);
});
