// One X-Ray subsegment per provider call, added around each Provider in the adapter layer so the
// core knows nothing of tracing. The subsegment is named after the provider, annotated with the
// provider and model (searchable in X-Ray), marked with the error when the call fails, and for a
// stream it stays open until the stream ends, so its duration is the whole upstream call.
import type { ChatCompletionRequest, StreamResult, SyncResult } from '../../core/chat/model';
import type { EmbeddingsRequest, ModelObject } from '../../core/openai-types';
import type { CallContext, EmbeddingsResult, NativeApi, NativeCall, NativeStream, NativeSync, Provider, ProviderHealth } from '../../core/providers/provider';

/** The parts of an X-Ray (sub)segment used here; Powertools' Tracer hands out such objects. */
export interface TraceSegment {
  addNewSubsegment(name: string): TraceSubsegment;
}

export interface TraceSubsegment extends TraceSegment {
  addAnnotation(key: string, value: string | number | boolean): void;
  addError(err: Error): void;
  close(): void;
}

/** The parts of Powertools' Tracer used here (tests pass a recording stand-in). */
export interface ProviderTracer {
  isTracingEnabled(): boolean;
  getSegment(): TraceSegment | TraceSubsegment | undefined;
  setSegment(segment: TraceSegment | TraceSubsegment): void;
}

/** Wraps each provider when tracing is on; otherwise hands providers back untouched (no cost). */
export function traceProviderCalls(tracer: ProviderTracer): (provider: Provider) => Provider {
  return (provider) => (tracer.isTracingEnabled() ? new TracedProvider(provider, tracer) : provider);
}

interface Span {
  fail(err: unknown): void;
  /** Makes the caller's segment current again (later work is not the provider's). */
  detach(): void;
  end(): void;
}

const NO_SPAN: Span = { fail() {}, detach() {}, end() {} };

class TracedProvider implements Provider {
  readonly name: string;
  readonly embed?: (request: EmbeddingsRequest, ctx: CallContext) => Promise<EmbeddingsResult>;
  readonly forwards?: (api: NativeApi) => boolean;
  readonly forward?: (api: NativeApi, call: NativeCall, ctx: CallContext) => Promise<NativeSync | NativeStream>;
  readonly countInputTokens?: (api: NativeApi, call: NativeCall, ctx: CallContext) => Promise<number>;

  constructor(
    private readonly inner: Provider,
    private readonly tracer: ProviderTracer,
  ) {
    this.name = inner.name;
    // Present only when the inner provider embeds: the pipelines test for the method itself.
    const embed = inner.embed?.bind(inner);
    if (embed) {
      this.embed = async (request, ctx) => {
        const span = this.start('embeddings', request.model);
        try {
          return await embed(request, ctx);
        } catch (err) {
          span.fail(err);
          throw err;
        } finally {
          span.detach();
          span.end();
        }
      };
    }
    // Likewise the native path: a provider that forwards a client API keeps doing so when traced.
    const forwards = inner.forwards?.bind(inner);
    const forward = inner.forward?.bind(inner);
    if (forwards && forward) {
      this.forwards = forwards;
      this.forward = async (api, call, ctx) => {
        const span = this.start(api, call.model);
        const result = await untilAnswered(span, forward(api, call, ctx));
        return result.kind === 'json' ? result : { ...result, events: endWhenDone(result.events, span) };
      };
    }
    const count = inner.countInputTokens?.bind(inner);
    if (count) this.countInputTokens = count;
  }

  get configured(): boolean {
    return this.inner.configured;
  }

  async chat(request: ChatCompletionRequest, ctx: CallContext): Promise<SyncResult | StreamResult> {
    const span = this.start('chat', request.model);
    const result = await untilAnswered(span, this.inner.chat(request, ctx));
    return result.kind === 'json' ? result : { ...result, chunks: endWhenDone(result.chunks, span) };
  }

  listModels(): Promise<ModelObject[]> {
    return this.inner.listModels();
  }

  health(): Promise<ProviderHealth> {
    return this.inner.health();
  }

  private start(operation: string, model: string): Span {
    const parent = this.tracer.getSegment();
    if (!parent) return NO_SPAN; // outside an invocation (init, tests without a segment)
    const sub = parent.addNewSubsegment(`## ${this.name}.${operation}`);
    sub.addAnnotation('provider', this.name);
    sub.addAnnotation('model', model);
    // Current while the call runs, so the HTTP subsegment Powertools records nests under it.
    this.tracer.setSegment(sub);
    let ended = false;
    return {
      fail: (err) => sub.addError(err instanceof Error ? err : new Error(String(err))),
      detach: () => this.tracer.setSegment(parent),
      end: () => {
        if (ended) return;
        ended = true;
        sub.close();
      },
    };
  }
}

/**
 * The call's answer, with the span detached once it is in: ended then for a whole answer or a
 * failure, left open for a stream (endWhenDone closes it).
 */
async function untilAnswered<T extends { kind: 'json' | 'stream' }>(span: Span, call: Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await call;
  } catch (err) {
    span.fail(err);
    span.detach();
    span.end();
    throw err;
  }
  span.detach();
  if (result.kind === 'json') span.end();
  return result;
}

/** The stream's chunks, closing the span when they end, fail, or the consumer stops early. */
async function* endWhenDone<T>(chunks: AsyncIterable<T>, span: Span): AsyncIterable<T> {
  try {
    yield* chunks;
  } catch (err) {
    span.fail(err);
    throw err;
  } finally {
    span.end();
  }
}
