// The OTLP exporter on Lambda. A dynamic import in a single-file CommonJS bundle is inlined by
// esbuild, so the stack builds the exporter (telemetry.ts) as a file of its own in the chat
// function's asset, beside the bundle (lib/constructs/otel-bundle.ts), and this loads it by its
// path only when an endpoint is set: the chat bundle holds nothing of the OpenTelemetry SDK.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { GatewayConfig } from '../../config';
import type { Logger } from '../../core/logger';
import { logExportFailure } from './export-failure';
import type { ExportingTelemetry } from './telemetry';

/** The exporter's file in the function's asset, next to the bundle that loads it. */
export const OTEL_BUNDLE_FILE = 'otel.js';

type ExporterModule = typeof import('./telemetry');

/**
 * The exporting Telemetry when an endpoint is set, from `dir`/otel.js (the bundle's own folder by
 * default). An asset without the file exports nothing and says so once: telemetry never stops the gateway.
 */
export function loadBundledOtlpTelemetry(config: GatewayConfig, logger: Logger, dir: string = bundleDir()): ExportingTelemetry | undefined {
  if (!config.otlp) return undefined;
  const file = join(dir, OTEL_BUNDLE_FILE);
  let exporter: ExporterModule;
  try {
    // A computed path: esbuild leaves this require to the runtime rather than bundling the exporter.
    exporter = createRequire(file)(file) as ExporterModule;
  } catch (err) {
    logger.error('OTLP export is off: the exporter bundle could not be loaded', { file, error: err instanceof Error ? err.message : String(err) });
    return undefined;
  }
  return exporter.exportingTelemetry(config.otlp, config.version, logExportFailure(logger));
}

/** The folder of the running bundle: a CommonJS bundle's own; else the function's code folder on Lambda. */
function bundleDir(): string {
  return typeof __dirname === 'string' ? __dirname : (process.env.LAMBDA_TASK_ROOT ?? process.cwd());
}
