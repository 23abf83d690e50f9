// POST /v1/messages/count_tokens: how many input tokens a Messages request would cost, as
// Anthropic's SDKs and Claude Code ask before sending one.
//
// Decisions:
// - The model is routed as a Messages request is (route aliases, `provider/` prefixes,
//   X-Provider). When the first target is a provider that counts itself (Anthropic), its count is
//   the answer (`x-gateway-token-count: exact`), the body forwarded as the client sent it (with
//   the target's model when a route changed it) with its `anthropic-beta` and `anthropic-version`.
// - Otherwise, and when that provider cannot be reached or fails on its side (5xx, 429, a
//   timeout, the gateway's own credentials refused) or its circuit breaker is open, the answer is
//   an estimate: the body's bytes / 4, the rule the budget's reservation uses
//   (`x-gateway-token-count: estimate`). A refusal of the request itself (Anthropic's 400 or 404)
//   is the client's to see. A count tells the breaker how the provider did, as a completion does.
// - Only the tenant's key and its model policy are checked: a count is neither a completion for
//   the rate limits nor billed.
// - Errors take Anthropic's shape, `{"type":"error","error":{"type","message"}}` (`errorBody`).
import type { ApiRequest, ApiResponse } from '../../api-types';
import type { CircuitBreaker } from '../../breaker';
import { badRequest, GatewayError } from '../../errors';
import type { Logger } from '../../logger';
import type { Tenant } from '../../ports';
import { forwardsNatively, type NativeCall, type Provider } from '../../providers/provider';
import type { RequestIds } from '../../request-context';
import type { PlannedTarget, RoutingInput } from '../../routing';
import { ANTHROPIC_KEY, type ApiKeySource } from '../../tenant-auth';
import { estimateTokens } from '../../usage-estimate';
import { parseJsonBody, type Json } from '../../validate';
import type { AnthropicErrorBody } from '../../providers/anthropic/types';
import { attemptSpans } from '../../attempt-spans';
import type { Telemetry } from '../../ports/telemetry';
import type { ProviderDirectory } from '../../provider-names';
import { redactText } from '../../redact';
import { NO_SPAN } from '../../telemetry';
import { messagesErrorBody, messagesErrorStatus } from './errors';
import { forwardedHeaders, MESSAGES_API, messagesBody } from './native';

export const COUNT_TOKENS_PATH = '/v1/messages/count_tokens';
/** Says whether `input_tokens` is the provider's own count or the gateway's estimate. */
export const TOKEN_COUNT_HEADER = 'x-gateway-token-count';

export interface CountTokensDeps {
  /** The request's key → its tenant (401, 403 disabled); `keys` says where the key is. */
  authenticate(req: ApiRequest, keys: ApiKeySource): Promise<Tenant>;
  /** The tenant's model policy: throws 403 for a model outside `allowed_models`. */
  checkModel(tenant: Tenant, model: string): void;
  /** The targets a chat request for this model goes to, in order. */
  plan(input: RoutingInput): readonly PlannedTarget[];
  providers: ReadonlyMap<string, Provider>;
  breaker: CircuitBreaker;
  now: () => number;
  /** Milliseconds an upstream may stay silent (UPSTREAM_TIMEOUT). */
  upstreamTimeoutMs: number;
  logger: Logger;
  /** Where the provider's count call gets its CLIENT span; none when absent or off. */
  telemetry?: Telemetry;
  /** Provider names to their types, for `gen_ai.provider.name`. */
  directory: ProviderDirectory;
}

/** The count_tokens route, with the key source and the error shape of the Messages API. */
export class CountTokensRoute {
  readonly apiKey: ApiKeySource = ANTHROPIC_KEY;

  constructor(private readonly deps: CountTokensDeps) {}

  errorBody(err: GatewayError): AnthropicErrorBody {
    return messagesErrorBody(err);
  }

  errorStatus(err: GatewayError): number {
    return messagesErrorStatus(err);
  }

  async handle(req: ApiRequest, ids: RequestIds): Promise<ApiResponse> {
    const { deps } = this;
    const tenant = await deps.authenticate(req, this.apiKey);
    const body = parseJsonBody(req.body);
    const model = body.model;
    if (typeof model !== 'string' || model === '') throw badRequest('model: Field required (a model name).', 'model');
    if (!Array.isArray(body.messages)) throw badRequest('messages: Field required (an array of messages).', 'messages');
    deps.checkModel(tenant, model);

    const target = deps.plan({ model, forcedProvider: req.headers['x-provider'], tenant })[0];
    const provider = target && deps.providers.get(target.provider);
    if (target && provider?.configured && provider.countInputTokens && forwardsNatively(provider, MESSAGES_API)) {
      const counted = await this.countAt(provider, target, body, req, ids);
      if (counted !== undefined) return count(counted, 'exact', provider.name);
    }
    return count(estimateTokens(req.body.length), 'estimate', target?.provider);
  }

  /** The provider's own count; undefined when its breaker is open or it failed on its side. */
  private async countAt(provider: Provider, target: PlannedTarget, body: Json, req: ApiRequest, ids: RequestIds): Promise<number | undefined> {
    const { deps } = this;
    const { model } = target;
    const admission = await deps.breaker.admit(provider.name, deps.now());
    if (admission === 'rejected' || !provider.countInputTokens) return undefined;
    const call: NativeCall = { body: messagesBody(body, req.body, model), model, headers: forwardedHeaders(req.headers) };
    const { telemetry } = deps;
    const span = telemetry?.enabled && ids.span !== NO_SPAN ? attemptSpans(telemetry, ids, deps.directory, 'count_tokens', {})(provider, target) : NO_SPAN;
    const traced = span !== NO_SPAN;
    try {
      const counted = await provider.countInputTokens(MESSAGES_API, call, {
        signal: req.signal,
        requestId: ids.requestId,
        timeoutMs: deps.upstreamTimeoutMs,
        traceparent: traced ? span.traceparent() : undefined,
        tracestate: traced ? span.tracestate() : undefined,
      });
      void deps.breaker.recordSuccess(provider.name, admission);
      if (traced) {
        // The count is not tokens used: it stays out of gen_ai.usage.* and the token-usage metric.
        span.setAttributes({ 'ai_gateway.counted_input_tokens': counted });
        span.end();
      }
      return counted;
    } catch (err) {
      if (traced) {
        const type = err instanceof GatewayError ? (err.code ?? String(err.status)) : 'error';
        span.recordError(type, redactText(err instanceof Error ? err.message : String(err)));
        span.end();
      }
      // The client's own mistake (an invalid request, an unknown model) is its to see; a provider fault is not.
      if (!(err instanceof GatewayError) || (!err.retryable && err.status !== 504)) {
        deps.breaker.release(provider.name, admission);
        throw err;
      }
      void deps.breaker.recordFailure(provider.name, admission, deps.now());
      deps.logger.warn('token count fell back to an estimate', {
        request_id: ids.requestId,
        provider: provider.name,
        error: err.message,
        ...(err.detail ? { detail: err.detail } : {}),
      });
      return undefined;
    }
  }
}

function count(inputTokens: number, kind: 'exact' | 'estimate', provider: string | undefined): ApiResponse {
  const headers: Record<string, string> = { 'content-type': 'application/json', [TOKEN_COUNT_HEADER]: kind };
  if (provider) headers['x-gateway-provider'] = provider;
  return { status: 200, headers, body: JSON.stringify({ input_tokens: inputTokens }) };
}
