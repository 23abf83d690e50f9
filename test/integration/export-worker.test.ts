// The export worker of the local server: it runs at a lower CPU priority than the request path;
// one that falls behind has batches dropped (said once), not queued without bound; one that cannot
// start, or exits, costs the gateway its telemetry and nothing else: its error is reported once,
// flushes and shutdowns still resolve, and spans ended afterwards are dropped.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind, TraceFlags } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BATCH_SPANS, ExportWorkerClient, MAX_UNREAD_BATCHES } from '../../functions/adapters/otel/export-worker-client';
import { exportingTelemetry } from '../../functions/adapters/otel/telemetry';
import { eventually } from '../helpers/eventually';
import { ExportedSpan, type SpanHome } from '../../functions/adapters/otel/exported-span';
import type { OtlpExport } from '../../functions/config/otlp';

const settings: OtlpExport = {
  tracesUrl: 'http://127.0.0.1:9/v1/traces',
  metricsUrl: 'http://127.0.0.1:9/v1/metrics',
  protocol: 'http/protobuf',
  headers: {},
  serviceName: 'ai-gateway',
  resourceAttributes: {},
  sampler: { name: 'parentbased_always_on', ratio: 1 },
  timeoutMs: 500,
};

function workerFile(code: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'export-worker-')), 'worker.js');
  writeFileSync(file, code);
  return file;
}

/** Ends one sampled span into `client`. */
function endSpan(client: ExportWorkerClient): void {
  const home: SpanHome = { resource: resourceFromAttributes({}), scope: { name: 'ai-gateway' }, ended: (span) => client.take(span) };
  const context = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED };
  new ExportedSpan('POST /v1/chat/completions', SpanKind.SERVER, context, undefined, Date.now(), { 'http.request.method': 'POST' }, home, false).end();
}

test('a worker that fails to start is reported once, and flush and shutdown still resolve', async () => {
  const errors: unknown[] = [];
  const client = new ExportWorkerClient(workerFile("throw new Error('the exporter could not load');"), { otlpExport: { settings, version: '1' } }, (err) =>
    errors.push(err),
  );
  endSpan(client);
  await client.flush();
  expect(errors).toHaveLength(1);
  expect((errors[0] as Error).message).toContain('the exporter could not load');
  endSpan(client); // dropped: the worker is gone
  await client.flush();
  await client.shutdown();
  expect(errors).toHaveLength(1);
});

test('a worker that exits while a flush waits on it: the flush resolves', async () => {
  const errors: unknown[] = [];
  // Exits when the first message arrives, before answering it.
  const file = workerFile("require('node:worker_threads').parentPort.on('message', () => process.exit(0));");
  const client = new ExportWorkerClient(file, { otlpExport: { settings, version: '1' } }, (err) => errors.push(err));
  endSpan(client);
  await client.flush();
  await client.shutdown();
  expect(errors).toEqual([]);
});

/** The nice value of each of this process's threads (Linux: field 19 of /proc/self/task/<id>/stat). */
function threadNices(): number[] {
  return readdirSync('/proc/self/task').map((id) => {
    const stat = readFileSync(`/proc/self/task/${id}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

test('the export worker runs at nice 10, the request path at the process priority', async () => {
  // Counted from before: another file's export worker may still be running in this jest worker.
  const before = threadNices().filter((n) => n === 10).length;
  const telemetry = exportingTelemetry(settings, '1', undefined, 'worker');
  try {
    // The worker lowers its own priority as it starts (from source, once tsx has compiled it).
    await eventually('a thread at nice 10', () => threadNices().filter((n) => n === 10).length === before + 1, 10_000);
    expect(Number(readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ')[16])).toBe(0);
  } finally {
    await telemetry.shutdown();
  }
});

test('a worker that falls behind: batches past the limit are dropped, said once, and sending resumes once it catches up', async () => {
  const errors: string[] = [];
  // Reads batches but says it took none until asked to flush; then takes them all, and names how many it got.
  const file = workerFile(`
    const { parentPort } = require('node:worker_threads');
    let batches = 0, untaken = 0;
    parentPort.on('message', (m) => {
      if (m.batch) { batches += 1; untaken += 1; return; }
      for (; untaken > 0; untaken--) parentPort.postMessage({ taken: true });
      parentPort.postMessage({ exportError: 'batches ' + batches });
      parentPort.postMessage({ done: m.flush ?? m.shutdown });
    });`);
  const client = new ExportWorkerClient(file, { otlpExport: { settings, version: '1' } }, (err) => errors.push((err as Error).message));
  const batch = () => {
    for (let i = 0; i < BATCH_SPANS; i++) endSpan(client);
  };
  for (let b = 0; b < MAX_UNREAD_BATCHES + 2; b++) batch();
  expect(errors).toEqual(['the export worker is behind: spans are dropped until it catches up']);
  await client.flush();
  expect(errors.at(-1)).toBe(`batches ${MAX_UNREAD_BATCHES}`);
  batch();
  await client.flush();
  expect(errors.at(-1)).toBe(`batches ${MAX_UNREAD_BATCHES + 1}`);
  expect(errors.filter((e) => e.includes('behind'))).toHaveLength(1);
  await client.shutdown();
});
