// One span of the port (core/ports/telemetry.ts) held as the SDK's exporters read a finished span
// (ReadableSpan): its attributes are kept in one plain object as the core sets them, and when it
// ends it goes straight to the batch span processor. The SDK's own Span would copy and validate
// every attribute, read the clock through its own conversions and go through a Tracer, per span.
import {
  SpanStatusCode,
  TraceFlags,
  type AttributeValue as SdkAttributeValue,
  type Attributes as SdkAttributes,
  type HrTime,
  type Link,
  type SpanContext,
  type SpanKind,
  type SpanStatus,
  type TraceState,
} from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace';
import type { Attributes, Span } from '../../core/ports/telemetry';
import { FIRST_CHUNK_EVENT, TIME_TO_FIRST_CHUNK_MS } from '../../core/telemetry';
import type { ProviderCall } from './genai-metrics';

/** Where a span's facts go: what every span of the process shares. */
export interface SpanHome {
  resource: Resource;
  scope: InstrumentationScope;
  /** Takes an ended span that is sampled, or a provider call (whose end feeds the GenAI metrics). */
  ended(span: ExportedSpan): void;
}

/** One value of a span's record in a batch (see `writeTo`): what structured cloning carries as it is. */
export type SpanRecordValue = SdkAttributeValue | undefined | TimedEvent[];

/** Bits of a record's flags value, beside the span kind in its low three bits. */
const SAMPLED_BIT = 8;
const PROVIDER_CALL_BIT = 16;
const PARENT_REMOTE_BIT = 32;
const PARENT_SAMPLED_BIT = 64;

const UNSET: SpanStatus = { code: SpanStatusCode.UNSET };
const NO_LINKS: Link[] = [];
const NO_EVENTS: TimedEvent[] = [];

/** Epoch milliseconds (fractions kept) as OpenTelemetry's [seconds, nanoseconds]. */
export const hrTimeOf = (ms: number): HrTime => {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
};

/** Now, in epoch milliseconds with sub-millisecond precision. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

export class ExportedSpan implements Span, ReadableSpan {
  /**
   * Keys and values as they were set, in order (a later value of a key wins): one array per span
   * while it waits for its batch, rather than an object of twenty-odd dotted keys, which V8 keeps
   * as a hash table and the garbage collector then copies and promotes with every waiting span.
   */
  private readonly pairs: Array<string | SdkAttributeValue> = [];
  private attributeObject: SdkAttributes | undefined;
  readonly links = NO_LINKS;
  status = UNSET;
  ended = false;
  readonly droppedAttributesCount = 0;
  readonly droppedEventsCount = 0;
  readonly droppedLinksCount = 0;
  /** Milliseconds from the call's start to its first chunk, for a stream. */
  private firstChunkAfterMs: number | undefined;
  /** Made by the first event: most spans have none. */
  private eventList: TimedEvent[] | undefined;
  private endMs = 0;
  private startHr: HrTime | undefined;
  private endHr: HrTime | undefined;

  constructor(
    readonly name: string,
    readonly kind: SpanKind,
    private readonly context: SpanContext,
    readonly parentSpanContext: SpanContext | undefined,
    private readonly startMs: number,
    attributes: Attributes | undefined,
    private readonly home: SpanHome,
    /** A provider call: its end feeds the GenAI metrics. */
    private readonly providerCall: boolean,
  ) {
    if (attributes) this.setAttributes(attributes);
  }

  // Times are kept as numbers and converted when the exporter reads them, once per span (its
  // protobuf serialiser reads them twice: once to size the message, once to write it).
  get startTime(): HrTime {
    if (!this.ended) return hrTimeOf(this.startMs);
    this.startHr ??= hrTimeOf(this.startMs);
    return this.startHr;
  }

  get endTime(): HrTime {
    if (!this.ended) return hrTimeOf(this.endMs);
    this.endHr ??= hrTimeOf(this.endMs);
    return this.endHr;
  }

  get duration(): HrTime {
    return hrTimeOf(Math.max(0, this.endMs - this.startMs));
  }

  /** The attributes as the exporters read them: made once, when the span's batch is serialised. */
  get attributes(): SdkAttributes {
    if (this.attributeObject) return this.attributeObject;
    const out: SdkAttributes = {};
    for (let i = 0; i < this.pairs.length; i += 2) out[this.pairs[i] as string] = this.pairs[i + 1] as SdkAttributeValue;
    if (this.ended) this.attributeObject = out;
    return out;
  }

  get events(): TimedEvent[] {
    return this.eventList ?? NO_EVENTS;
  }

  get traceId(): string {
    return this.context.traceId;
  }

  get spanId(): string {
    return this.context.spanId;
  }

  get resource(): Resource {
    return this.home.resource;
  }

  get instrumentationScope(): InstrumentationScope {
    return this.home.scope;
  }

  spanContext(): SpanContext {
    return this.context;
  }

  traceparent(): string {
    return `00-${this.context.traceId}-${this.context.spanId}-${this.context.traceFlags & TraceFlags.SAMPLED ? '01' : '00'}`;
  }

  tracestate(): string | undefined {
    return this.context.traceState?.serialize() || undefined;
  }

  setAttributes(attributes: Attributes): void {
    if (this.ended) return;
    // The port's arrays are readonly; the exporters only read them.
    for (const key in attributes) this.pairs.push(key, attributes[key] as SdkAttributeValue);
  }

  recordError(type: string, message: string): void {
    if (this.ended) return;
    this.pairs.push('error.type', type);
    this.status = { code: SpanStatusCode.ERROR, message };
  }

  addEvent(name: string, attributes?: Attributes, atMs?: number): void {
    if (this.ended) return;
    const at = atMs ?? nowMs();
    this.eventList ??= [];
    this.eventList.push({ name, attributes: attributes as SdkAttributes | undefined, time: hrTimeOf(at), droppedAttributesCount: 0 });
    if (name !== FIRST_CHUNK_EVENT) return;
    // The core measures it on its own clock; the event's time is the fallback.
    const measured = attributes?.[TIME_TO_FIRST_CHUNK_MS];
    this.firstChunkAfterMs = typeof measured === 'number' ? measured : at - this.startMs;
  }

  end(endMs?: number): void {
    if (this.ended) return;
    this.ended = true;
    this.endMs = endMs ?? nowMs();
    if (this.sampled || this.providerCall) this.home.ended(this);
  }

  /** Whether the span is exported (else it only feeds the metrics). */
  get sampled(): boolean {
    return (this.context.traceFlags & TraceFlags.SAMPLED) !== 0;
  }

  /**
   * Appends the ended span to a batch's flat list: twelve values, then its attribute pairs, with
   * the name and the keys as `ref` gives them (see span-texts.ts). No object or array per span
   * crosses to the worker but the rare events.
   */
  writeTo(out: SpanRecordValue[], ref: (text: string) => number | string): void {
    const c = this.context;
    const p = this.parentSpanContext;
    const flags =
      this.kind |
      (c.traceFlags & TraceFlags.SAMPLED ? SAMPLED_BIT : 0) |
      (this.providerCall ? PROVIDER_CALL_BIT : 0) |
      (p?.isRemote ? PARENT_REMOTE_BIT : 0) |
      (p && p.traceFlags & TraceFlags.SAMPLED ? PARENT_SAMPLED_BIT : 0);
    out.push(
      ref(this.name),
      flags,
      c.traceId,
      c.spanId,
      c.traceState?.serialize(),
      p?.spanId,
      this.startMs,
      this.endMs,
      this.status.code === SpanStatusCode.ERROR ? (this.status.message ?? '') : undefined,
      this.firstChunkAfterMs,
      this.eventList,
      this.pairs.length / 2,
    );
    const pairs = this.pairs;
    for (let i = 0; i < pairs.length; i += 2) out.push(ref(pairs[i] as string), pairs[i + 1]);
  }

  /**
   * The ended span `writeTo` wrote at `at` in `records`, in `home` (which hears nothing of it), and
   * where the next record starts; `text` reads a name or key back.
   */
  static readFrom(
    records: readonly SpanRecordValue[],
    at: number,
    home: SpanHome,
    text: (ref: unknown) => string,
    traceStateOf: (serialized: string) => TraceState,
  ): { span: ExportedSpan; next: number } {
    const r = (i: number) => records[at + i];
    const flags = r(1) as number;
    const state = r(4) as string | undefined;
    const traceState = state === undefined ? undefined : traceStateOf(state);
    const traceId = r(2) as string;
    const parentId = r(5) as string | undefined;
    const parent: SpanContext | undefined =
      parentId === undefined
        ? undefined
        : {
            traceId,
            spanId: parentId,
            isRemote: (flags & PARENT_REMOTE_BIT) !== 0,
            traceFlags: flags & PARENT_SAMPLED_BIT ? TraceFlags.SAMPLED : TraceFlags.NONE,
            traceState,
          };
    const context: SpanContext = { traceId, spanId: r(3) as string, traceFlags: flags & SAMPLED_BIT ? TraceFlags.SAMPLED : TraceFlags.NONE, traceState };
    const span = new ExportedSpan(text(r(0)), (flags & 7) as SpanKind, context, parent, r(6) as number, undefined, home, (flags & PROVIDER_CALL_BIT) !== 0);
    span.endMs = r(7) as number;
    const error = r(8) as string | undefined;
    if (error !== undefined) span.status = { code: SpanStatusCode.ERROR, message: error };
    span.firstChunkAfterMs = r(9) as number | undefined;
    span.eventList = r(10) as TimedEvent[] | undefined;
    const pairCount = r(11) as number;
    let i = at + 12;
    for (let n = 0; n < pairCount; n++, i += 2) span.pairs.push(text(records[i]), records[i + 1] as SdkAttributeValue);
    span.ended = true;
    return { span, next: i };
  }

  /** What a provider call gives the GenAI metrics; nothing for any other span. */
  providerCallFacts(): ProviderCall | undefined {
    if (!this.providerCall) return undefined;
    // The attribute object the exporter reads (made once per ended span) answers each lookup.
    const a = this.attributes;
    const operation = a['gen_ai.operation.name'];
    if (typeof operation !== 'string') return undefined;
    const durationMs = this.endMs - this.startMs;
    return {
      operation,
      provider: text(a['gen_ai.provider.name']),
      requestModel: text(a['gen_ai.request.model']),
      responseModel: text(a['gen_ai.response.model']),
      serverAddress: text(a['server.address']),
      errorType: text(a['error.type']),
      durationS: durationMs / 1000,
      firstChunkS: this.firstChunkAfterMs === undefined ? undefined : this.firstChunkAfterMs / 1000,
      inputTokens: count(a['gen_ai.usage.input_tokens']),
      outputTokens: count(a['gen_ai.usage.output_tokens']),
    };
  }
}

const text = (value: SdkAttributeValue | undefined): string | undefined => (typeof value === 'string' ? value : undefined);
const count = (value: SdkAttributeValue | undefined): number | undefined => (typeof value === 'number' ? value : undefined);
