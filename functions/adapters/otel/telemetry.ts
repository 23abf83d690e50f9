// The Telemetry port (core/ports/telemetry.ts) over OTLP/HTTP with the OpenTelemetry SDK. Spans
// are made and sampled here, on the request path's thread. As they end they go to the export
// pipeline (export-pipeline.ts: the SDK's BatchSpanProcessor and OTLP exporters, and the GenAI
// metrics each provider call's span feeds), which runs either
// - in a worker thread (`thread: 'worker'`, the long-running server): spans go there in flat
//   batches (export-worker-client.ts), so serialisation and HTTP export stay off the request
//   path's thread; the worker runs this same file (export-worker.ts); or
// - on this thread (`'inline'`, a Lambda): one request at a time, flushed before the handler
//   returns, with no worker to start on a cold start.
//
// Load this module only when an endpoint is set (`import()` in the composition, a file of its own
// on Lambda): nothing of the SDK is then loaded by a gateway that does not export.
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { ROOT_CONTEXT, SpanKind, TraceFlags, trace, type Attributes as SdkAttributes, type SpanContext } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, SamplingDecision, TraceIdRatioBasedSampler, type Sampler } from '@opentelemetry/sdk-trace';
import type { OtlpExport } from '../../config/otlp';
import type { Attributes, RemoteParent, Span, SpanOptions, Telemetry } from '../../core/ports/telemetry';
import { exportPipeline, gatewayResource } from './export-pipeline';
import { isExportWorkerData, serveExports } from './export-worker';
import { ExportWorkerClient } from './export-worker-client';
import { ExportedSpan, nowMs, type SpanHome } from './exported-span';
import { newSpanId, newTraceId } from './ids';

export interface ExportingTelemetry extends Telemetry {
  /**
   * Exports what is buffered (a Lambda calls it before it returns). Never rejects: a collector
   * that is down or refuses costs the gateway its telemetry, never a request (`onExportError` hears of it).
   */
  flush(): Promise<void>;
  /** Exports what is left and stops. */
  shutdown(): Promise<void>;
}

/** Decides whether a new span is recorded and exported. */
type SampleDecision = (traceId: string, name: string, kind: SpanKind, attributes: Attributes | undefined, parent: SpanContext | undefined) => boolean;

/** Where the export pipeline runs: a worker thread, or the request path's own. */
export type ExportThread = 'worker' | 'inline';

/** An exporting Telemetry for `settings`; `version` names the service's version in the resource. */
export function exportingTelemetry(
  settings: OtlpExport,
  version: string,
  onExportError: (err: unknown) => void = () => undefined,
  thread: ExportThread = 'inline',
): ExportingTelemetry {
  const pipeline =
    thread === 'worker'
      ? new ExportWorkerClient(thisFile(), { otlpExport: { settings, version } }, onExportError)
      : exportPipeline(settings, version, onExportError);
  const home: SpanHome = { resource: gatewayResource(settings, version), scope: { name: 'ai-gateway' }, ended: (span) => pipeline.take(span) };
  const sampled = samplerOf(settings.sampler);

  return {
    enabled: true,
    startSpan(name: string, options: SpanOptions): Span {
      const parent = parentOf(options.parent);
      const traceId = parent?.traceId ?? newTraceId();
      const kind = options.kind === 'server' ? SpanKind.SERVER : SpanKind.CLIENT;
      const context: SpanContext = {
        traceId,
        spanId: newSpanId(),
        traceFlags: sampled(traceId, name, kind, options.attributes, parent) ? TraceFlags.SAMPLED : TraceFlags.NONE,
        traceState: parent?.traceState,
      };
      return new ExportedSpan(name, kind, context, parent, options.startMs ?? nowMs(), options.attributes, home, options.kind === 'client');
    },
    flush: () => pipeline.flush(),
    shutdown: () => pipeline.shutdown(),
  };
}

/** This module's own file (a chunk of the local build, otel.js on Lambda, the source in tests): the worker runs it too. */
const thisFile = (): string => (typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url));

/** The configured sampler; the default (parent-based, always on) decided without the SDK's context objects. */
function samplerOf({ name, ratio }: OtlpExport['sampler']): SampleDecision {
  if (name === 'parentbased_always_on') return (_t, _n, _k, _a, parent) => parent === undefined || (parent.traceFlags & TraceFlags.SAMPLED) !== 0;
  if (name === 'always_on') return () => true;
  const sampler = sdkSampler(name, ratio);
  return (traceId, spanName, kind, attributes, parent) => {
    const context = parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT;
    return sampler.shouldSample(context, traceId, spanName, kind, (attributes ?? {}) as SdkAttributes, []).decision === SamplingDecision.RECORD_AND_SAMPLED;
  };
}

function sdkSampler(name: OtlpExport['sampler']['name'], ratio: number): Sampler {
  switch (name) {
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

/** A W3C traceparent: version, trace id, parent id, flags (a later version may append fields). */
const TRACEPARENT = /^([\da-f]{2})-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})(-.*)?$/;
const INVALID_TRACE = '0'.repeat(32);
const INVALID_SPAN = '0'.repeat(16);

/** The span context a new span continues: a span of this process, the client's W3C trace context, or none (a new trace). */
function parentOf(parent: Span | RemoteParent | undefined): SpanContext | undefined {
  if (!parent) return undefined;
  if (parent instanceof ExportedSpan) return parent.spanContext();
  if (!('traceparent' in parent) || typeof parent.traceparent !== 'string') return undefined;
  const match = TRACEPARENT.exec(parent.traceparent.trim());
  if (!match) return undefined;
  const [, versionHex, traceId, spanId, flags, rest] = match as unknown as [string, string, string, string, string, string | undefined];
  if (versionHex === 'ff' || (versionHex === '00' && rest !== undefined) || traceId === INVALID_TRACE || spanId === INVALID_SPAN) return undefined;
  const state = parent.tracestate;
  return {
    traceId,
    spanId,
    traceFlags: Number.parseInt(flags, 16) & TraceFlags.SAMPLED,
    isRemote: true,
    traceState: typeof state === 'string' && state.trim() !== '' ? new TraceState(state) : undefined,
  };
}

// Started as the export worker: serve the main thread.
if (!isMainThread && parentPort && isExportWorkerData(workerData)) serveExports(parentPort, workerData);
