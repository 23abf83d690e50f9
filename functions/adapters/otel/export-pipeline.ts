// Where ended spans are exported: the SDK's BatchSpanProcessor and OTLP exporters for traces, and
// the GenAI metrics (genai-metrics.ts) that provider calls feed, read by the SDK's metric reader.
// The same pipeline runs on the request path's thread (a Lambda, which flushes before it returns)
// or in the export worker (export-worker.ts, the long-running server).
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace';
import type { OtlpExport } from '../../config/otlp';
import type { ExportedSpan } from './exported-span';
import { GenAiMetrics } from './genai-metrics';

/**
 * Batches: a busy gateway ends thousands of spans a second. A batch leaves when it holds 1024 spans
 * or after 2 s; the queue holds a few seconds' worth while the collector is slow, then drops.
 */
const BATCH = { maxQueueSize: 16_384, maxExportBatchSize: 1024, scheduledDelayMillis: 2000 } as const;

export interface ExportPipeline {
  /** Takes an ended span: exported if sampled, and counted in the metrics if it is a provider call. */
  take(span: ExportedSpan): void;
  /** Exports what is buffered; never rejects (`onExportError` hears of a failure). */
  flush(): Promise<void>;
  /** Exports what is left and stops. */
  shutdown(): Promise<void>;
}

/** The resource every span and metric of the gateway carries. */
export const gatewayResource = (settings: OtlpExport, version: string): Resource =>
  resourceFromAttributes({ ...settings.resourceAttributes, 'service.name': settings.serviceName, 'service.version': version });

export function exportPipeline(settings: OtlpExport, version: string, onExportError: (err: unknown) => void): ExportPipeline {
  const resource = gatewayResource(settings, version);
  const json = settings.protocol === 'http/json';
  const common = { headers: settings.headers, timeoutMillis: settings.timeoutMs };
  const traceExporter = json ? new JsonTraceExporter({ url: settings.tracesUrl, ...common }) : new ProtoTraceExporter({ url: settings.tracesUrl, ...common });
  const metricExporter = json
    ? new JsonMetricExporter({ url: settings.metricsUrl, ...common })
    : new ProtoMetricExporter({ url: settings.metricsUrl, ...common });
  const processor = new BatchSpanProcessor({ exporter: traceExporter, exportTimeoutMillis: settings.timeoutMs, ...BATCH });
  const metrics = new GenAiMetrics(resource);
  const meterProvider = new MeterProvider({
    resource,
    readers: [new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 15_000, metricProducers: [metrics] })],
  });
  return {
    take(span) {
      if (span.sampled) processor.onEnd(span);
      const call = span.providerCallFacts();
      if (call) metrics.record(call);
    },
    async flush() {
      await Promise.all([processor.forceFlush().catch(onExportError), meterProvider.forceFlush().catch(onExportError)]);
    },
    async shutdown() {
      await Promise.all([processor.shutdown().catch(onExportError), meterProvider.shutdown().catch(onExportError)]);
    },
  };
}
