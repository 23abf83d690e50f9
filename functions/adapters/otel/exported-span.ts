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
import type { AttributeValue, Attributes, Span } from '../../core/ports/telemetry';
import { FIRST_CHUNK_EVENT, TIME_TO_FIRST_CHUNK_MS } from '../../core/telemetry';
import type { ProviderCall } from './genai-metrics';
import type { SpanBatchReader, SpanBatchWriter } from './span-batch';

/** Where a span's facts go: what every span of the process shares. */
export interface SpanHome {
  resource: Resource;
  scope: InstrumentationScope;
  /** Takes an ended span that is sampled, or a provider call (whose end feeds the GenAI metrics). */
  ended(span: ExportedSpan): void;
}

/** Bits of a span's flags in a batch (see `writeTo`), beside the span kind in its low three bits. */
const KIND_BITS = 7;
const SAMPLED_BIT = 8;
const PROVIDER_CALL_BIT = 16;
const PARENT_REMOTE_BIT = 32;
const PARENT_SAMPLED_BIT = 64;
const HAS_PARENT_BIT = 128;
const HAS_STATE_BIT = 256;
const HAS_ERROR_BIT = 512;
const HAS_FIRST_CHUNK_BIT = 1024;
const HAS_EVENTS_BIT = 2048;

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
  private readonly pairs: Array<string | AttributeValue> = [];
  private attributeObject: SdkAttributes | undefined;
  status = UNSET;
  ended = false;
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
    // The port's arrays are readonly; the exporters only read them.
    for (let i = 0; i < this.pairs.length; i += 2) out[this.pairs[i] as string] = this.pairs[i + 1] as SdkAttributeValue;
    if (this.ended) this.attributeObject = out;
    return out;
  }

  // The same for every span, so kept off each one.
  get links(): Link[] {
    return NO_LINKS;
  }

  get droppedAttributesCount(): number {
    return 0;
  }

  get droppedEventsCount(): number {
    return 0;
  }

  get droppedLinksCount(): number {
    return 0;
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
    for (const key in attributes) this.pairs.push(key, attributes[key] as AttributeValue);
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
   * Writes the ended span to a batch (span-batch.ts): its name, flags, ids, times and attribute
   * pairs, with the name and keys as table indexes.
   */
  writeTo(batch: SpanBatchWriter): void {
    const c = this.context;
    const p = this.parentSpanContext;
    const state = c.traceState?.serialize();
    const error = this.status.code === SpanStatusCode.ERROR ? (this.status.message ?? '') : undefined;
    const flags =
      this.kind |
      (c.traceFlags & TraceFlags.SAMPLED ? SAMPLED_BIT : 0) |
      (this.providerCall ? PROVIDER_CALL_BIT : 0) |
      (p ? HAS_PARENT_BIT : 0) |
      (p?.isRemote ? PARENT_REMOTE_BIT : 0) |
      (p && p.traceFlags & TraceFlags.SAMPLED ? PARENT_SAMPLED_BIT : 0) |
      (state !== undefined ? HAS_STATE_BIT : 0) |
      (error !== undefined ? HAS_ERROR_BIT : 0) |
      (this.firstChunkAfterMs !== undefined ? HAS_FIRST_CHUNK_BIT : 0) |
      (this.eventList ? HAS_EVENTS_BIT : 0);
    batch.recurring(this.name);
    batch.number(flags);
    batch.string(c.traceId);
    batch.string(c.spanId);
    if (p) batch.string(p.spanId);
    if (state !== undefined) batch.string(state);
    if (error !== undefined) batch.string(error);
    batch.number(this.startMs);
    batch.number(this.endMs);
    if (this.firstChunkAfterMs !== undefined) batch.number(this.firstChunkAfterMs);
    if (this.eventList) batch.object(this.eventList);
    const pairs = this.pairs;
    batch.number(pairs.length / 2);
    for (let i = 0; i < pairs.length; i += 2) {
      batch.recurring(pairs[i] as string);
      writeValue(batch, pairs[i + 1] as AttributeValue);
    }
  }

  /** The next ended span `batch` reads (as `writeTo` wrote it), in `home`, which hears nothing of it. */
  static readFrom(batch: SpanBatchReader, home: SpanHome, traceStateOf: (serialized: string) => TraceState): ExportedSpan {
    const name = batch.recurring();
    const flags = batch.number();
    const traceId = batch.string();
    const spanId = batch.string();
    const parentId = flags & HAS_PARENT_BIT ? batch.string() : undefined;
    const traceState = flags & HAS_STATE_BIT ? traceStateOf(batch.string()) : undefined;
    const error = flags & HAS_ERROR_BIT ? batch.string() : undefined;
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
    const context: SpanContext = { traceId, spanId, traceFlags: flags & SAMPLED_BIT ? TraceFlags.SAMPLED : TraceFlags.NONE, traceState };
    const span = new ExportedSpan(name, (flags & KIND_BITS) as SpanKind, context, parent, batch.number(), undefined, home, (flags & PROVIDER_CALL_BIT) !== 0);
    span.endMs = batch.number();
    if (error !== undefined) span.status = { code: SpanStatusCode.ERROR, message: error };
    if (flags & HAS_FIRST_CHUNK_BIT) span.firstChunkAfterMs = batch.number();
    if (flags & HAS_EVENTS_BIT) span.eventList = batch.object() as TimedEvent[];
    // Read straight into the object the exporters read (a later value of a key wins, as when set).
    const attributes: SdkAttributes = {};
    const pairCount = batch.number();
    for (let n = 0; n < pairCount; n++) attributes[batch.recurring()] = readValue(batch);
    span.attributeObject = attributes;
    span.ended = true;
    return span;
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

/** How an attribute value travels in a batch: its kind, then the value itself unless it is a boolean. */
const ValueKind = { Number: 0, True: 1, False: 2, String: 3, /** The port's only arrays: its length, then each string. */ Strings: 4 } as const;

function writeValue(batch: SpanBatchWriter, value: AttributeValue): void {
  switch (typeof value) {
    case 'number':
      batch.number(ValueKind.Number);
      batch.number(value);
      return;
    case 'boolean':
      batch.number(value ? ValueKind.True : ValueKind.False);
      return;
    case 'string':
      batch.number(ValueKind.String);
      batch.string(value);
      return;
    default:
      batch.number(ValueKind.Strings);
      batch.number(value.length);
      for (const item of value) batch.string(item);
  }
}

function readValue(batch: SpanBatchReader): SdkAttributeValue {
  switch (batch.number()) {
    case ValueKind.Number:
      return batch.number();
    case ValueKind.True:
      return true;
    case ValueKind.False:
      return false;
    case ValueKind.String:
      return batch.string();
    default: {
      const values: string[] = new Array(batch.number());
      for (let i = 0; i < values.length; i++) values[i] = batch.string();
      return values;
    }
  }
}
