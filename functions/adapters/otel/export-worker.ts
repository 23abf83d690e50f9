// The exporting side of OTLP export, run in a worker thread (telemetry.ts starts it): it rebuilds
// the gateway's ended spans from the batches the main thread posts, hands the sampled ones to the
// SDK's BatchSpanProcessor and OTLP exporter, and records the GenAI metrics of provider calls,
// so serialisation and HTTP export never take the request path's thread.
import type { MessagePort } from 'node:worker_threads';
import { TraceState } from '@opentelemetry/core';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace';
import type { OtlpExport } from '../../config/otlp';
import { ExportedSpan, SPAN_RECORD_LENGTH, type SpanHome, type SpanRecordValue } from './exported-span';
import { GenAiMetrics } from './genai-metrics';

/** What the worker is started with. */
export interface ExportWorkerData {
  otlpExport: { settings: OtlpExport; version: string };
}

/** Main thread → worker. */
export type ToExportWorker = { spans: SpanRecordValue[] } | { flush: number } | { shutdown: number };
/** Worker → main thread: a flush or shutdown done, or an export that failed. */
export type FromExportWorker = { done: number } | { exportError: string };

/**
 * Batches: a busy gateway ends thousands of spans a second. A batch leaves when it holds 512 spans
 * or after 2 s; the queue holds a few seconds' worth while the collector is slow, then drops.
 */
const BATCH = { maxQueueSize: 16_384, maxExportBatchSize: 512, scheduledDelayMillis: 2000 } as const;

export const isExportWorkerData = (data: unknown): data is ExportWorkerData =>
  typeof data === 'object' && data !== null && 'otlpExport' in data && typeof data.otlpExport === 'object';

/** The resource every span and metric of the gateway carries. */
export const gatewayResource = (settings: OtlpExport, version: string): Resource =>
  resourceFromAttributes({ ...settings.resourceAttributes, 'service.name': settings.serviceName, 'service.version': version });

/** Serves the main thread on `port` until it asks for a shutdown. */
export function serveExports(port: MessagePort, { otlpExport: { settings, version } }: ExportWorkerData): void {
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
  const home: SpanHome = { resource, scope: { name: 'ai-gateway' }, ended: () => undefined };
  const traceStates = new Map<string, TraceState>();
  const traceStateOf = (serialized: string): TraceState => {
    let state = traceStates.get(serialized);
    if (!state) {
      if (traceStates.size > 1000) traceStates.clear();
      state = new TraceState(serialized);
      traceStates.set(serialized, state);
    }
    return state;
  };
  const reply = (message: FromExportWorker) => port.postMessage(message);
  const failed = (err: unknown) => reply({ exportError: err instanceof Error ? err.message : String(err) });

  port.on('message', (message: ToExportWorker) => {
    if ('spans' in message) {
      const records = message.spans;
      for (let at = 0; at + SPAN_RECORD_LENGTH <= records.length; at += SPAN_RECORD_LENGTH) {
        const span = ExportedSpan.readFrom(records, at, home, traceStateOf);
        if (span.sampled) processor.onEnd(span);
        const call = span.providerCallFacts();
        if (call) metrics.record(call);
      }
      return;
    }
    const shutdown = 'shutdown' in message;
    const id = shutdown ? message.shutdown : message.flush;
    const settle = shutdown
      ? Promise.all([processor.shutdown().catch(failed), meterProvider.shutdown().catch(failed)])
      : Promise.all([processor.forceFlush().catch(failed), meterProvider.forceFlush().catch(failed)]);
    void settle.then(() => reply({ done: id }));
  });
}
