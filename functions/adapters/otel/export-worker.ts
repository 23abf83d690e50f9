// The export worker thread the long-running server starts (telemetry.ts): it rebuilds the
// gateway's ended spans from the batches the main thread posts (export-worker-client.ts) and
// hands them to the export pipeline, so serialisation and HTTP export never take the request
// path's thread.
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import type { MessagePort } from 'node:worker_threads';
import { TraceState } from '@opentelemetry/core';
import type { OtlpExport } from '../../config/otlp';
import { exportPipeline, gatewayResource } from './export-pipeline';
import { ExportedSpan, type SpanHome } from './exported-span';
import { type SpanBatch, SpanBatchReader } from './span-batch';
import { TextTable } from './span-texts';

/** What the worker is started with. */
export interface ExportWorkerData {
  otlpExport: { settings: OtlpExport; version: string };
}

/** Main thread → worker. */
export type ToExportWorker = { texts: string[]; batch: SpanBatch } | { flush: number } | { shutdown: number };
/** Worker → main thread: a batch taken, a flush or shutdown done, or an export that failed. */
export type FromExportWorker = { taken: true } | { done: number } | { exportError: string };

export const isExportWorkerData = (data: unknown): data is ExportWorkerData =>
  typeof data === 'object' && data !== null && 'otlpExport' in data && typeof data.otlpExport === 'object';

/**
 * Lowers this thread's CPU priority (Linux: a thread's own nice value, by its id): when serving
 * keeps the machine busy, requests come first and the export catches up in the gaps. Elsewhere
 * the thread keeps the process's priority.
 */
function yieldToRequests(): void {
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(threadId) && threadId > 0) setPriority(threadId, EXPORT_NICE);
  } catch {
    // Not Linux, or not allowed: the export runs at the process's priority.
  }
}

/** The export thread's nice value: about a tenth of the CPU share of the request path's thread when both want it. */
const EXPORT_NICE = 10;

/** Serves the main thread on `port` until it asks for a shutdown. */
export function serveExports(port: MessagePort, { otlpExport: { settings, version } }: ExportWorkerData): void {
  yieldToRequests();
  const reply = (message: FromExportWorker) => port.postMessage(message);
  const pipeline = exportPipeline(settings, version, (err) => reply({ exportError: err instanceof Error ? err.message : String(err) }));
  const home: SpanHome = { resource: gatewayResource(settings, version), scope: { name: 'ai-gateway' }, ended: () => undefined };
  // Trace states repeat (a client's vendor entries): one object per distinct text.
  const texts = new TextTable();
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

  port.on('message', (message: ToExportWorker) => {
    if ('batch' in message) {
      texts.add(message.texts);
      const batch = new SpanBatchReader(message.batch, texts);
      while (!batch.done) pipeline.take(ExportedSpan.readFrom(batch, home, traceStateOf));
      reply({ taken: true });
      return;
    }
    const id = 'shutdown' in message ? message.shutdown : message.flush;
    void ('shutdown' in message ? pipeline.shutdown() : pipeline.flush()).then(() => reply({ done: id }));
  });
}
