// A small circuit around one shared store (a Redis server, a DynamoDB endpoint). Every call the
// request path makes to the store goes through run(): a failure is counted and reported as a
// StoreUnavailableError; after a few consecutive failures the store is marked down and calls fail
// at once instead of each waiting for the client's timeout, except one probe now and then, whose
// success marks the store up again. Deadlines are the clients' own (ioredis commandTimeout, the
// AWS SDK's request timeout), set to STORE_TIMEOUT where the clients are made.
import type { Logger } from './logger';
import { METRIC, noMetrics, type Metrics } from './metrics';

export class StoreUnavailableError extends Error {
  constructor(
    readonly store: string,
    readonly operation: string,
    readonly reason: string,
  ) {
    super(`${store} is unavailable (${operation}): ${reason}`);
    this.name = 'StoreUnavailableError';
  }
}

export interface StoreGuardOptions {
  /** The store's name in metrics, logs and /health: "redis", "dynamodb". */
  store: string;
  now: () => number;
  logger: Logger;
  metrics?: Metrics;
  /** Consecutive failures that mark the store down (default 3). */
  failureThreshold?: number;
  /** While down, one call per this interval goes through as a probe (default 500 ms). */
  probeIntervalMs?: number;
}

export type StoreStatus = 'ok' | 'down';

export class StoreGuard {
  readonly store: string;
  private failures = 0;
  private isDown = false;
  private lastProbeMs = 0;
  private probing = false;
  private readonly failureThreshold: number;
  private readonly probeIntervalMs: number;
  private readonly metrics: Metrics;
  private readonly listeners: Array<(status: StoreStatus) => void> = [];
  private ping: (() => Promise<unknown>) | undefined;

  constructor(private readonly opts: StoreGuardOptions) {
    this.store = opts.store;
    this.failureThreshold = opts.failureThreshold ?? 3;
    this.probeIntervalMs = opts.probeIntervalMs ?? 500;
    this.metrics = opts.metrics ?? noMetrics;
    this.metrics.gauge(METRIC.storeDegraded, { store: this.store }, 0);
  }

  get status(): StoreStatus {
    return this.isDown ? 'down' : 'ok';
  }

  /**
   * A cheap call to the store (a Redis PING, a DynamoDB read of a key that does not exist), for
   * probes that no request makes: see probeIfDue().
   */
  setPing(ping: () => Promise<unknown>): void {
    this.ping = ping;
  }

  /**
   * While the store is marked down and a probe is due, probes it with the ping, in the
   * background. /health calls this: an instance that a readiness check took out of rotation gets
   * no requests, so without it nothing would ever find the store back.
   */
  probeIfDue(): void {
    const ping = this.ping;
    if (!this.isDown || !ping) return;
    // run() lets it through only as the interval's one probe; otherwise it fails at once.
    this.run('ping', ping).catch(() => undefined);
  }

  /** Told of every change between ok and down (after the log line and the gauge). */
  onChange(listener: (status: StoreStatus) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Runs one store call. Rejects with StoreUnavailableError when the store is known to be down
   * (without calling it, unless this call is the probe) or when the call fails.
   */
  async run<T>(operation: string, call: () => Promise<T>): Promise<T> {
    let probe = false;
    if (this.isDown) {
      const now = this.opts.now();
      if (this.probing || now - this.lastProbeMs < this.probeIntervalMs) {
        throw new StoreUnavailableError(this.store, operation, 'marked down after repeated failures');
      }
      this.probing = probe = true;
      this.lastProbeMs = now;
    }
    try {
      const value = await call();
      this.succeeded();
      return value;
    } catch (err) {
      throw this.failed(operation, err);
    } finally {
      if (probe) this.probing = false;
    }
  }

  private succeeded(): void {
    this.failures = 0;
    if (this.isDown) this.change(false, undefined);
  }

  private failed(operation: string, err: unknown): StoreUnavailableError {
    const reason = describe(err);
    this.metrics.count(METRIC.storeErrors, { store: this.store, operation });
    this.failures += 1;
    if (!this.isDown && this.failures >= this.failureThreshold) {
      this.lastProbeMs = this.opts.now();
      this.change(true, `${operation}: ${reason}`);
    }
    return new StoreUnavailableError(this.store, operation, reason);
  }

  private change(down: boolean, reason: string | undefined): void {
    this.isDown = down;
    this.metrics.gauge(METRIC.storeDegraded, { store: this.store }, down ? 1 : 0);
    if (down) this.opts.logger.warn('store unavailable; degrading', { store: this.store, error: reason });
    else this.opts.logger.warn('store available again', { store: this.store });
    for (const l of this.listeners) l(this.status);
  }
}

/** A short reason for logs: the error's name and message, never a payload. */
function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`.slice(0, 200);
  return String(err).slice(0, 200);
}

/** One guard per shared store of the process, made when a store is first wired. */
export class StoreGuards {
  private readonly guards = new Map<string, StoreGuard>();

  constructor(private readonly base: Omit<StoreGuardOptions, 'store'>) {}

  for(store: string): StoreGuard {
    let guard = this.guards.get(store);
    if (!guard) this.guards.set(store, (guard = new StoreGuard({ ...this.base, store })));
    return guard;
  }

  /**
   * Each guarded store's status, for /health. A store marked down is probed (in the background,
   * at most once per probe interval): a later call reports what the probe found.
   */
  statuses(): Record<string, StoreStatus> {
    for (const g of this.guards.values()) g.probeIfDue();
    return Object.fromEntries([...this.guards].map(([name, g]) => [name, g.status]));
  }
}
