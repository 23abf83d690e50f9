// CircuitBreaker over the in-memory state store, driven by explicit clock values.
import { MemoryBreakerStore } from '../../functions/adapters/memory/breaker-store';
import { CircuitBreaker, type Admission } from '../../functions/core/breaker';
import type { BreakerSettings } from '../../functions/config';

const settings: BreakerSettings = { failure_threshold: 3, success_threshold: 2, open_seconds: 10 };
const OPEN_MS = settings.open_seconds * 1000;
const T0 = 1_700_000_000_000;
const P = 'openai';

function newBreaker(s: BreakerSettings = settings): CircuitBreaker {
  return new CircuitBreaker(new MemoryBreakerStore(), s);
}

/** Fails `n` normally-admitted calls at time `now`. */
async function failCalls(b: CircuitBreaker, n: number, now: number, provider = P): Promise<void> {
  for (let i = 0; i < n; i++) {
    const a = await b.admit(provider, now);
    expect(a).toBe('normal');
    await b.recordFailure(provider, a, now);
  }
}

async function phaseOf(b: CircuitBreaker, provider = P): Promise<string> {
  return (await b.phases())[provider] ?? 'closed';
}

describe('CircuitBreaker', () => {
  it('stays closed below failure_threshold consecutive failures and opens at it', async () => {
    const b = newBreaker();
    await failCalls(b, settings.failure_threshold - 1, T0);
    expect(await phaseOf(b)).toBe('closed');
    expect(await b.admit(P, T0)).toBe('normal');
    await b.recordFailure(P, 'normal', T0);
    expect(await phaseOf(b)).toBe('open');
    expect(await b.admit(P, T0 + 1)).toBe('rejected');
  });

  it('counts only consecutive failures: a success resets the count', async () => {
    const b = newBreaker();
    await failCalls(b, settings.failure_threshold - 1, T0);
    const a = await b.admit(P, T0);
    await b.recordSuccess(P, a);
    await failCalls(b, settings.failure_threshold - 1, T0);
    expect(await phaseOf(b)).toBe('closed');
    expect(await b.admit(P, T0)).toBe('normal');
  });

  it('rejects while open and lets a probe through once open_seconds have passed', async () => {
    const b = newBreaker();
    await failCalls(b, settings.failure_threshold, T0);
    expect(await b.admit(P, T0 + 1)).toBe('rejected');
    expect(await b.admit(P, T0 + OPEN_MS - 1)).toBe('rejected');
    expect(await b.admit(P, T0 + OPEN_MS + 1)).toBe('probe');
    expect(await phaseOf(b)).toBe('half_open');
  });

  it('admits at most success_threshold probes at a time while half-open', async () => {
    const b = newBreaker();
    await failCalls(b, settings.failure_threshold, T0);
    const t = T0 + OPEN_MS + 1;
    const admitted: Admission[] = [];
    for (let i = 0; i < settings.success_threshold; i++) admitted.push(await b.admit(P, t));
    expect(admitted).toEqual(Array(settings.success_threshold).fill('probe'));
    expect(await b.admit(P, t)).toBe('rejected');
    // a probe that ends without a verdict frees its slot
    b.release(P, 'probe');
    expect(await b.admit(P, t)).toBe('probe');
    expect(await b.admit(P, t)).toBe('rejected');
  });

  it('frees every probe slot once its probe has ended', async () => {
    const b = newBreaker();
    await failCalls(b, settings.failure_threshold, T0);
    const t = T0 + OPEN_MS + 1;
    for (let round = 0; round < 3; round++) {
      const probes: Admission[] = [];
      for (let i = 0; i < settings.success_threshold; i++) probes.push(await b.admit(P, t));
      expect(probes).toEqual(Array(settings.success_threshold).fill('probe'));
      for (const a of probes) b.release(P, a);
    }
    expect(await phaseOf(b)).toBe('half_open');
  });

  it('closes after success_threshold successful probes', async () => {
    const b = newBreaker();
    await failCalls(b, settings.failure_threshold, T0);
    const t = T0 + OPEN_MS + 1;
    for (let i = 0; i < settings.success_threshold - 1; i++) {
      const a = await b.admit(P, t);
      expect(a).toBe('probe');
      await b.recordSuccess(P, a);
      expect(await phaseOf(b)).toBe('half_open');
    }
    const last = await b.admit(P, t);
    expect(last).toBe('probe');
    await b.recordSuccess(P, last);
    expect(await phaseOf(b)).toBe('closed');
    expect(await b.admit(P, t)).toBe('normal');
    // closed again means a fresh failure count
    await failCalls(b, settings.failure_threshold - 1, t);
    expect(await phaseOf(b)).toBe('closed');
  });

  it('re-opens on a failed probe, for a new open_seconds from the failure', async () => {
    const b = newBreaker();
    await failCalls(b, settings.failure_threshold, T0);
    const t1 = T0 + OPEN_MS + 1;
    const ok = await b.admit(P, t1);
    await b.recordSuccess(P, ok);
    const bad = await b.admit(P, t1 + 100);
    expect(bad).toBe('probe');
    await b.recordFailure(P, bad, t1 + 100);
    expect(await phaseOf(b)).toBe('open');
    expect(await b.admit(P, t1 + 100 + OPEN_MS - 1)).toBe('rejected');
    expect(await b.admit(P, t1 + 100 + OPEN_MS + 1)).toBe('probe');
  });

  it('keeps one breaker per provider, and phases() reports each', async () => {
    const b = newBreaker();
    await failCalls(b, settings.failure_threshold, T0, 'openai');
    await failCalls(b, 1, T0, 'anthropic');
    await failCalls(b, settings.failure_threshold, T0, 'ollama');
    await b.admit('ollama', T0 + OPEN_MS + 1);
    expect(await b.phases()).toMatchObject({ openai: 'open', anthropic: 'closed', ollama: 'half_open' });
    expect(await b.admit('anthropic', T0 + 1)).toBe('normal');
  });

  it('stays open when calls admitted before it opened succeed late (open only ends after open_seconds)', async () => {
    const b = newBreaker();
    // five calls in flight at once, all admitted while closed
    const inFlight: Admission[] = [];
    for (let i = 0; i < settings.failure_threshold + settings.success_threshold; i++) inFlight.push(await b.admit(P, T0));
    expect(inFlight.every((a) => a === 'normal')).toBe(true);
    for (let i = 0; i < settings.failure_threshold; i++) await b.recordFailure(P, 'normal', T0 + 10);
    expect(await phaseOf(b)).toBe('open');
    // the slow ones now come back fine
    for (let i = 0; i < settings.success_threshold; i++) await b.recordSuccess(P, 'normal');
    expect(await b.admit(P, T0 + 1000)).toBe('rejected');
    expect(await phaseOf(b)).toBe('open');
  });
});
