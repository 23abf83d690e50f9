// The Lambda side of loading the exporter: nothing without an endpoint; an asset without the
// exporter's file exports nothing, says so once, and the gateway goes on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBundledOtlpTelemetry } from '../../functions/adapters/otel/bundled';
import { loadConfig } from '../../functions/config';
import type { Logger } from '../../functions/core/logger';

const lines: Array<{ level: string; message: string }> = [];
const logger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (message) => lines.push({ level: 'warn', message }),
  error: (message) => lines.push({ level: 'error', message }),
};
const config = (env: Record<string, string>) => loadConfig(env, () => '', 'test');

let empty: string;
beforeAll(() => {
  empty = mkdtempSync(join(tmpdir(), 'asset-without-exporter-'));
});
afterAll(() => rmSync(empty, { recursive: true, force: true }));
beforeEach(() => {
  lines.length = 0;
});

test('no endpoint: nothing is loaded, nothing is said', () => {
  expect(loadBundledOtlpTelemetry(config({}), logger, empty)).toBeUndefined();
  expect(lines).toEqual([]);
});

test('an endpoint but no exporter file beside the bundle: no export, one error line', () => {
  expect(loadBundledOtlpTelemetry(config({ OTLP_ENDPOINT: 'http://127.0.0.1:4318' }), logger, empty)).toBeUndefined();
  expect(lines).toEqual([{ level: 'error', message: 'OTLP export is off: the exporter bundle could not be loaded' }]);
});
