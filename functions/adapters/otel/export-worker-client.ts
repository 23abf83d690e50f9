// The main thread's side of the export worker (export-worker.ts): ended spans are written to a
// batch (span-batch.ts) that goes to the worker every BATCH_SPANS spans or BATCH_MS milliseconds,
// never per span; a flush or shutdown sends what is batched and resolves once the worker has
// exported it.
import { Worker } from 'node:worker_threads';
import type { ExportPipeline } from './export-pipeline';
import type { ExportWorkerData, FromExportWorker, ToExportWorker } from './export-worker';
import type { ExportedSpan } from './exported-span';
import { SpanBatchWriter } from './span-batch';
import { TextIndex } from './span-texts';

/** Spans per message to the worker, and the longest an ended span waits for its message. */
export const BATCH_SPANS = 256;
const BATCH_MS = 100;
/**
 * Batches the worker may have yet to read: 16384 spans, as many as its batch processor queues.
 * The worker runs at a lower CPU priority (export-worker.ts); on a machine that is busy serving,
 * it may fall this far behind, and then batches are dropped rather than queued without bound.
 */
export const MAX_UNREAD_BATCHES = 64;

/** The worker thread that exports, and the batch of ended spans on its way there. */
export class ExportWorkerClient implements ExportPipeline {
  private readonly worker: Worker;
  private readonly texts = new TextIndex();
  private readonly batch = new SpanBatchWriter(this.texts);
  private spans = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly pending = new Map<number, () => void>();
  private nextId = 1;
  private stopped = false;
  /** Batches posted that the worker has not said it took. */
  private unread = 0;
  /** Dropping batches since the worker fell behind (reported once per such spell). */
  private dropping = false;

  /** `file` is the module that serves the worker when run as one (telemetry.ts, built or not). */
  constructor(
    file: string,
    data: ExportWorkerData,
    private readonly onExportError: (err: unknown) => void,
  ) {
    // From source (tests, tsx) the worker compiles TypeScript as it loads; a build runs as it is.
    this.worker = file.endsWith('.ts')
      ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(file)});`, { eval: true, workerData: data })
      : new Worker(file, { workerData: data });
    this.worker.unref();
    this.worker.on('message', (message: FromExportWorker) => {
      if ('taken' in message) this.unread -= 1;
      else if ('exportError' in message) this.onExportError(new Error(message.exportError));
      else this.settle(message.done);
    });
    this.worker.on('error', (err) => {
      this.onExportError(err);
      this.stop();
    });
    this.worker.on('exit', () => this.stop());
  }

  take(span: ExportedSpan): void {
    if (this.stopped) return;
    span.writeTo(this.batch);
    if (++this.spans >= BATCH_SPANS) this.send();
    else this.timer ??= setTimeout(() => this.send(), BATCH_MS).unref();
  }

  flush(): Promise<void> {
    return this.request('flush');
  }

  shutdown(): Promise<void> {
    return this.request('shutdown');
  }

  /** Sends what is batched, then has the worker flush (or shut down); resolves when it has. */
  private request(what: 'flush' | 'shutdown'): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.send();
    const id = this.nextId++;
    const done = new Promise<void>((resolve) => this.pending.set(id, resolve));
    // The process waits for the answer, not for an idle worker.
    this.worker.ref();
    this.post(what === 'flush' ? { flush: id } : { shutdown: id });
    if (what === 'flush') return done;
    this.stopped = true;
    return done.then(async () => {
      await this.worker.terminate();
    });
  }

  private send(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.spans === 0) return;
    if (this.unread >= MAX_UNREAD_BATCHES) {
      // New texts stay listed: they travel with the next batch that is sent.
      if (!this.dropping) this.onExportError(new Error('the export worker is behind: spans are dropped until it catches up'));
      this.dropping = true;
      this.batch.discard();
    } else {
      this.dropping = false;
      this.unread += 1;
      const batch = this.batch.take();
      this.post({ texts: this.texts.takeAdded(), batch }, [batch.numbers]);
    }
    this.spans = 0;
  }

  /** `transfer`: buffers that move to the worker rather than being copied. */
  private post(message: ToExportWorker, transfer?: ArrayBuffer[]): void {
    this.worker.postMessage(message, transfer);
  }

  private settle(id: number): void {
    this.pending.get(id)?.();
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
  }

  /** The worker is gone: what waits on it resolves, and spans are dropped from now on. */
  private stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.batch.discard();
    this.spans = 0;
    for (const resolve of this.pending.values()) resolve();
    this.pending.clear();
  }
}
