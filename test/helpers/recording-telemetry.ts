// A Telemetry that keeps every span in memory, with its attributes, events, error and parent
// link, so tests can assert what an exporter would be handed.
import { randomBytes } from 'node:crypto';
import type { AttributeValue, Attributes, RemoteParent, Span, SpanKind, SpanOptions, Telemetry } from '../../functions/core/ports/telemetry';

export interface RecordedSpan {
  name: string;
  kind: SpanKind;
  traceId: string;
  spanId: string;
  /** The parent's span id (a span of this process, or the one the client's traceparent named). */
  parentSpanId?: string;
  attributes: Record<string, AttributeValue>;
  events: Array<{ name: string; attributes: Attributes }>;
  error?: { type: string; message: string };
  ended: boolean;
}

const TRACEPARENT = /^00-([\da-f]{32})-([\da-f]{16})-[\da-f]{2}$/;

const isRemote = (parent: Span | RemoteParent): parent is RemoteParent => !('spanId' in parent);

export class RecordingTelemetry implements Telemetry {
  readonly enabled = true;
  readonly spans: RecordedSpan[] = [];

  startSpan(name: string, options: SpanOptions): Span {
    let traceId = randomBytes(16).toString('hex');
    let parentSpanId: string | undefined;
    let tracestate: string | undefined;
    const { parent } = options;
    if (parent && isRemote(parent)) {
      const match = TRACEPARENT.exec(parent.traceparent);
      if (match) {
        traceId = match[1] as string;
        parentSpanId = match[2];
        tracestate = parent.tracestate;
      }
    } else if (parent) {
      traceId = parent.traceId;
      parentSpanId = parent.spanId;
      tracestate = parent.tracestate();
    }
    const recorded: RecordedSpan = {
      name,
      kind: options.kind,
      traceId,
      spanId: randomBytes(8).toString('hex'),
      parentSpanId,
      attributes: { ...options.attributes },
      events: [],
      ended: false,
    };
    this.spans.push(recorded);
    return {
      traceId: recorded.traceId,
      spanId: recorded.spanId,
      traceparent: () => `00-${recorded.traceId}-${recorded.spanId}-01`,
      tracestate: () => tracestate,
      setAttributes: (attributes) => {
        if (!recorded.ended) Object.assign(recorded.attributes, attributes);
      },
      recordError: (type, message) => {
        recorded.error = { type, message };
        recorded.attributes['error.type'] = type;
      },
      addEvent: (eventName, attributes = {}) => {
        recorded.events.push({ name: eventName, attributes });
      },
      end: () => {
        recorded.ended = true;
      },
    };
  }

  ofKind(kind: SpanKind): RecordedSpan[] {
    return this.spans.filter((s) => s.kind === kind);
  }

  /** Every attribute value of every span, as one JSON text (for "never contains" checks). */
  everything(): string {
    return JSON.stringify(this.spans);
  }
}
