// The export worker failing: a worker that cannot start, or that exits, costs the gateway its
// telemetry and nothing else. Its error is reported once, flushes and shutdowns still resolve, and
// spans ended afterwards are dropped.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind, TraceFlags } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ExportWorkerClient } from '../../functions/adapters/otel/export-worker-client';
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
