// The account step: prices a request from its usage, records metrics, and hands exactly one
// usage event per request to the usage pipeline without making the client wait for it.
import { GatewayError } from './errors';
import { madeNoCall } from './fallback';
import type { Logger } from './logger';
import { METRIC, type Counter, type Histogram, type Metrics } from './metrics';
import type { Usage } from './openai-types';
import type { UsageSink } from './ports';
import { providerNames, providerType, type ProviderDirectory } from './provider-names';
import { tokenCountsOf, type PriceBook } from './pricing/pricing';
import type { Attempt, RequestContext } from './request-context';
import type { StreamTally } from './usage-estimate';

/** Providers that cost nothing per token: Ollama, built-in or named (a local model). */
export function freeProviders(routing: ProviderDirectory): ReadonlySet<string> {
  return new Set(providerNames(routing).filter((name) => providerType(name, routing) === 'ollama'));
}

export interface Outcome {
  provider: string;
  model: string;
  usage: Usage | undefined;
  status: number;
  cacheHit: boolean;
  stream: boolean;
  /**
   * What a stream carried so far: counted as its usage (marked estimated) when the provider's own
   * usage never arrived, since the provider bills what it generated whether or not it finished.
   */
  streamed?: StreamTally;
}

/** The metric series one (tenant, provider, model, status) writes to, bound once. */
interface Series {
  requests: Counter;
  duration: Histogram;
  input: Counter;
  output: Counter;
  cost: Counter;
}

/** Series are bound per label combination; past this many the map starts over (label churn). */
const MAX_BOUND_SERIES = 10_000;

export class Accountant {
  private readonly bound = new Map<string, Series>();
  /** The access line is skipped, fields and all, when info lines are off (the bench, quiet setups). */
  private readonly accessLog: boolean;

  constructor(
    private readonly prices: PriceBook,
    private readonly usage: UsageSink,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly now: () => number,
    /** Told what each request used once it is recorded (the token rate limit counts it). */
    private readonly onRecorded: (ctx: RequestContext, tokens: number, cacheHit: boolean) => void = () => {},
    private readonly free: ReadonlySet<string> = new Set(['ollama']),
  ) {
    this.accessLog = logger.enabled?.('info') ?? true;
  }

  /** Records the request's outcome and returns its cost in USD (0 on cache hits and unknown prices). */
  record(ctx: RequestContext, o: Outcome): number {
    const estimated = o.usage === undefined && o.streamed !== undefined && !o.cacheHit;
    const usage = estimated ? o.streamed?.usage() : o.usage;
    const tokens = tokenCountsOf(usage);
    const tenant = ctx.tenant.id;
    let cost = 0;
    if (!o.cacheHit && usage) {
      const priced = this.prices.cost(o.model, tokens, this.free.has(o.provider));
      if (priced === undefined) {
        this.logger.warn('no price known for model; cost recorded as 0', { request_id: ctx.requestId, provider: o.provider, model: o.model });
        this.metrics.count(METRIC.unpricedModels, { provider: o.provider, model: o.model });
      } else cost = priced;
    }
    this.onRecorded(ctx, tokens.prompt_tokens + tokens.completion_tokens, o.cacheHit);
    const nowMs = this.now();
    const series = this.series(tenant, o.provider, o.model, o.status);
    series.requests.add();
    series.duration.observe((nowMs - ctx.startedMs) / 1000);
    if (tokens.prompt_tokens) series.input.add(tokens.prompt_tokens);
    if (tokens.completion_tokens) series.output.add(tokens.completion_tokens);
    if (cost) series.cost.add(cost);

    // One line per request (the access log): ids, counts and cost, never a prompt or a key.
    if (this.accessLog)
      this.logger.info('request completed', {
        request_id: ctx.requestId,
        tenant,
        provider: o.provider,
        model: o.model,
        status: o.status,
        stream: o.stream,
        cache_hit: o.cacheHit,
        latency_ms: nowMs - ctx.startedMs,
        prompt_tokens: tokens.prompt_tokens,
        completion_tokens: tokens.completion_tokens,
        cost_usd: cost,
        ...(estimated ? { estimated: true } : {}),
      });
    this.usage
      .publish({
        request_id: ctx.requestId,
        ...(ctx.correlationId ? { correlation_id: ctx.correlationId } : {}),
        tenant_id: tenant,
        provider: o.provider,
        model: o.model,
        prompt_tokens: tokens.prompt_tokens,
        completion_tokens: tokens.completion_tokens,
        cached_tokens: tokens.cached_tokens,
        cache_write_tokens: tokens.cache_write_tokens,
        reasoning_tokens: usage?.completion_tokens_details?.reasoning_tokens ?? 0,
        cost_usd: cost,
        latency_ms: nowMs - ctx.startedMs,
        cache_hit: o.cacheHit,
        status: o.status,
        stream: o.stream,
        timestamp: new Date(nowMs).toISOString(),
        budget_usd: ctx.tenant.budget_usd,
        ...(estimated ? { estimated: true } : {}),
      })
      .catch((err: unknown) => this.logger.error('usage event could not be queued', { request_id: ctx.requestId, error: String(err) }));
    return cost;
  }

  /**
   * Records a request that failed before it had an answer (chat and embeddings alike): against
   * the attempt billedAttempt names, at no cost (no usage came back); nothing if there is none.
   */
  recordFailure(ctx: RequestContext, err: unknown, stream: boolean): void {
    const status = err instanceof GatewayError ? err.status : 500;
    const billed = billedAttempt(ctx.attempts, status);
    if (billed) this.record(ctx, { provider: billed.provider, model: billed.model, usage: undefined, status, cacheHit: false, stream });
  }

  private series(tenant: string, provider: string, model: string, status: number): Series {
    const key = `${tenant}\u0000${provider}\u0000${model}\u0000${status}`;
    let s = this.bound.get(key);
    if (!s) {
      if (this.bound.size >= MAX_BOUND_SERIES) this.bound.clear();
      const labels = { tenant, provider, model };
      s = {
        requests: this.metrics.counter(METRIC.requests, { ...labels, status: String(status) }),
        duration: this.metrics.histogram(METRIC.duration, { provider }),
        input: this.metrics.counter(METRIC.tokens, { ...labels, type: 'input' }),
        output: this.metrics.counter(METRIC.tokens, { ...labels, type: 'output' }),
        cost: this.metrics.counter(METRIC.cost, labels),
      };
      this.bound.set(key, s);
    }
    return s;
  }
}

/**
 * The attempt a failed request is billed and recorded against: the last one that reached a
 * provider. An attempt an open breaker or a cooldown refused made no provider call, so it is never the one; and
 * a client that left (499) is not a failure to bill. Undefined: nothing to record.
 */
export function billedAttempt(attempts: readonly Attempt[], status: number): Attempt | undefined {
  if (status === 499) return undefined;
  for (let i = attempts.length - 1; i >= 0; i--) {
    const attempt = attempts[i] as Attempt;
    if (!madeNoCall(attempt)) return attempt;
  }
  return undefined;
}
