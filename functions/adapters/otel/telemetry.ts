// The Telemetry port (core/ports/telemetry.ts) on the OpenTelemetry SDK: spans exported over
// OTLP/HTTP in batches, off the request path, and the GenAI metrics the conventions define
// (`gen_ai.client.token.usage`, `gen_ai.client.operation.duration`, time to first chunk) derived
// from each provider call's span as it ends, so the core reports each fact once.
//
// Load this module only when an endpoint is set (`import()` in the composition): nothing of the
// SDK is then loaded by a gateway that does not export.
import {
  context,
  defaultTextMapGetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Histogram,
  type Span as SdkSpan,
  type Attributes as SdkAttributes,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
} from '@opentelemetry/sdk-trace';
import type { OtlpExport } from '../../config/otlp';
import type { Attributes, RemoteParent, Span, SpanOptions, Telemetry } from '../../core/ports/telemetry';
import { FIRST_CHUNK_EVENT, TIME_TO_FIRST_CHUNK_MS } from '../../core/telemetry';

/** Attributes a provider call's metrics carry, when its span has them (the conventions' list). */
const METRIC_ATTRIBUTES = ['gen_ai.operation.name', 'gen_ai.provider.name', 'gen_ai.request.model', 'gen_ai.response.model', 'server.address', 'error.type'];

export interface ExportingTelemetry extends Telemetry {
  /**
   * Exports what is buffered (a Lambda calls it before it returns). Never rejects: a collector
   * that is down or refuses costs the gateway its telemetry, never a request (`onExportError` hears of it).
   */
  flush(): Promise<void>;
  /** Exports what is left and stops. */
  shutdown(): Promise<void>;
}

interface GenAiMetrics {
  tokens: Histogram;
  duration: Histogram;
  firstChunk: Histogram;
}

/** An exporting Telemetry for `settings`; `version` names the service's version in the resource. */
export function exportingTelemetry(settings: OtlpExport, version: string, onExportError: (err: unknown) => void = () => undefined): ExportingTelemetry {
  const resource = resourceFromAttributes({ ...settings.resourceAttributes, 'service.name': settings.serviceName, 'service.version': version });
  const json = settings.protocol === 'http/json';
  const common = { headers: settings.headers, timeoutMillis: settings.timeoutMs };
  const traceExporter = json ? new JsonTraceExporter({ url: settings.tracesUrl, ...common }) : new ProtoTraceExporter({ url: settings.tracesUrl, ...common });
  const metricExporter = json
    ? new JsonMetricExporter({ url: settings.metricsUrl, ...common })
    : new ProtoMetricExporter({ url: settings.metricsUrl, ...common });
  const tracerProvider = new TracerProvider({
    resource,
    sampler: samplerOf(settings.sampler),
    spanProcessors: [new BatchSpanProcessor({ exporter: traceExporter })],
  });
  const meterProvider = new MeterProvider({
    resource,
    readers: [new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 15_000 })],
  });
  const meter = meterProvider.getMeter('ai-gateway');
  const metrics: GenAiMetrics = {
    tokens: meter.createHistogram('gen_ai.client.token.usage', { unit: '{token}', description: 'Number of input and output tokens used.' }),
    duration: meter.createHistogram('gen_ai.client.operation.duration', { unit: 's', description: 'GenAI operation duration.' }),
    firstChunk: meter.createHistogram('gen_ai.client.operation.time_to_first_chunk', {
      unit: 's',
      description: 'Time to the first chunk of a streamed answer.',
    }),
  };
  const tracer = tracerProvider.getTracer('ai-gateway');
  const propagator = new W3CTraceContextPropagator();

  return {
    enabled: true,
    startSpan(name: string, options: SpanOptions): Span {
      const parent = parentContext(options.parent, propagator);
      const sdk = tracer.startSpan(
        name,
        { kind: options.kind === 'server' ? SpanKind.SERVER : SpanKind.CLIENT, attributes: sdkAttributes(options.attributes), startTime: options.startMs },
        parent,
      );
      return new ExportedSpan(sdk, options.kind === 'client' ? metrics : undefined, options.startMs ?? Date.now(), options.attributes);
    },
    async flush() {
      await Promise.all([tracerProvider.forceFlush().catch(onExportError), meterProvider.forceFlush().catch(onExportError)]);
    },
    async shutdown() {
      await Promise.all([tracerProvider.shutdown().catch(onExportError), meterProvider.shutdown().catch(onExportError)]);
    },
  };
}

/** The port's attributes are the SDK's, but for readonly arrays (which it copies, never changes). */
function sdkAttributes(attributes: Attributes): SdkAttributes;
function sdkAttributes(attributes: Attributes | undefined): SdkAttributes | undefined;
function sdkAttributes(attributes: Attributes | undefined): SdkAttributes | undefined {
  return attributes as SdkAttributes | undefined;
}

function samplerOf({ name, ratio }: OtlpExport['sampler']): Sampler {
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** The context a span starts in: a span of this process, the client's W3C trace context, or none. */
function parentContext(parent: Span | RemoteParent | undefined, propagator: W3CTraceContextPropagator): Context {
  if (!parent) return ROOT_CONTEXT;
  if (parent instanceof ExportedSpan) return trace.setSpan(context.active(), parent.sdk);
  const carrier: Record<string, string> = 'traceparent' in parent && typeof parent.traceparent === 'string' ? { traceparent: parent.traceparent } : {};
  const state = 'tracestate' in parent ? parent.tracestate : undefined;
  if (typeof state === 'string') carrier.tracestate = state;
  return propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
}

class ExportedSpan implements Span {
  readonly traceId: string;
  readonly spanId: string;
  private ended = false;
  /** What the metrics of a provider call need, gathered as its attributes are set. */
  private readonly facts: Record<string, string | number> = {};
  /** Milliseconds from the call's start to its first chunk, for a stream. */
  private firstChunkAfterMs: number | undefined;

  constructor(
    readonly sdk: SdkSpan,
    private readonly metrics: GenAiMetrics | undefined,
    private readonly startMs: number,
    attributes: Attributes | undefined,
  ) {
    const ctx = sdk.spanContext();
    this.traceId = ctx.traceId;
    this.spanId = ctx.spanId;
    if (attributes) this.note(attributes);
  }

  traceparent(): string {
    const { traceFlags } = this.sdk.spanContext();
    return `00-${this.traceId}-${this.spanId}-${traceFlags.toString(16).padStart(2, '0')}`;
  }

  tracestate(): string | undefined {
    return this.sdk.spanContext().traceState?.serialize() || undefined;
  }

  setAttributes(attributes: Attributes): void {
    this.sdk.setAttributes(sdkAttributes(attributes));
    this.note(attributes);
  }

  recordError(type: string, message: string): void {
    this.sdk.setAttribute('error.type', type);
    this.sdk.setStatus({ code: SpanStatusCode.ERROR, message });
    this.facts['error.type'] = type;
  }

  addEvent(name: string, attributes?: Attributes, atMs?: number): void {
    this.sdk.addEvent(name, sdkAttributes(attributes), atMs);
    if (name !== FIRST_CHUNK_EVENT) return;
    // The core measures it on its own clock; the event's time is the fallback.
    const measured = attributes?.[TIME_TO_FIRST_CHUNK_MS];
    this.firstChunkAfterMs = typeof measured === 'number' ? measured : (atMs ?? Date.now()) - this.startMs;
  }

  end(endMs?: number): void {
    if (this.ended) return;
    this.ended = true;
    this.sdk.end(endMs);
    if (this.metrics && typeof this.facts['gen_ai.operation.name'] === 'string') this.record(this.metrics, (endMs ?? Date.now()) - this.startMs);
  }

  private note(attributes: Attributes): void {
    if (!this.metrics) return;
    for (const [key, value] of Object.entries(attributes)) {
      if (typeof value === 'string' || typeof value === 'number') this.facts[key] = value;
    }
  }

  private record(metrics: GenAiMetrics, durationMs: number): void {
    const common: Record<string, string | number> = {};
    for (const key of METRIC_ATTRIBUTES) {
      const value = this.facts[key];
      if (value !== undefined) common[key] = value;
    }
    metrics.duration.record(durationMs / 1000, common);
    if (this.firstChunkAfterMs !== undefined) metrics.firstChunk.record(this.firstChunkAfterMs / 1000, common);
    const input = this.facts['gen_ai.usage.input_tokens'];
    const output = this.facts['gen_ai.usage.output_tokens'];
    if (typeof input === 'number') metrics.tokens.record(input, { ...common, 'gen_ai.token.type': 'input' });
    if (typeof output === 'number') metrics.tokens.record(output, { ...common, 'gen_ai.token.type': 'output' });
  }
}
