// The tracing port: spans the gateway opens around a request and each provider call it makes.
// Shaped after OpenTelemetry's tracing API so an SDK-backed adapter is a thin mapping (kind →
// SpanKind, a W3C traceparent → the parent context, ids made by the SDK); the core never sees it.

/** An attribute value, as OpenTelemetry allows them (arrays of strings only, which is all the conventions need here). */
export type AttributeValue = string | number | boolean | readonly string[];

export type Attributes = Readonly<Record<string, AttributeValue>>;

/** SERVER: the gateway answering a client; CLIENT: the gateway calling an upstream. */
export type SpanKind = 'server' | 'client';

/** A parent the gateway did not open itself: the W3C trace context headers a client sent. */
export interface RemoteParent {
  traceparent: string;
  tracestate?: string;
}

export interface SpanOptions {
  kind: SpanKind;
  /** A span of this process, or the client's trace context; a new trace when absent. */
  parent?: Span | RemoteParent;
  attributes?: Attributes;
  /** Epoch milliseconds; now when absent. */
  startMs?: number;
}

export interface Span {
  /** 32 lower-case hex digits. */
  readonly traceId: string;
  /** 16 lower-case hex digits. */
  readonly spanId: string;
  /** The W3C `traceparent` header naming this span as the parent of a call it makes. */
  traceparent(): string;
  /** The W3C `tracestate` the trace carries, if any. */
  tracestate(): string | undefined;
  setAttributes(attributes: Attributes): void;
  /** Marks the span failed: `type` becomes its `error.type`, `message` its status description. */
  recordError(type: string, message: string): void;
  /** A point in the span's time, e.g. a stream's first chunk. */
  addEvent(name: string, attributes?: Attributes, atMs?: number): void;
  /** Ends the span (at `endMs`, epoch milliseconds, or now); later calls are ignored. */
  end(endMs?: number): void;
}

export interface Telemetry {
  /** False when spans go nowhere: callers then skip building attributes at all. */
  readonly enabled: boolean;
  startSpan(name: string, options: SpanOptions): Span;
  /** Hands over what is buffered (a Lambda waits for it before it returns); never rejects. */
  flush?(): Promise<void>;
}
