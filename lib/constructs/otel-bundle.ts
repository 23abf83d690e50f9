// The chat function's OTLP exporter as a file of its own in the function's asset (otel.js beside
// gateway.js), built by the same local esbuild as the bundle. The chat bundle loads it by path
// only when OTLP_ENDPOINT is set (functions/adapters/otel/bundled.ts), so a function that does not
// export neither holds nor loads any of the OpenTelemetry SDK.
import { join } from 'node:path';
import { OTEL_BUNDLE_FILE } from '../../functions/adapters/otel/bundled';

/** Entry of the exporter, relative to the project root. */
export const OTEL_EXPORTER_ENTRY = 'functions/adapters/otel/telemetry.ts';

/** Shell commands (an `afterBundling` hook) that build the exporter into `outputDir`. */
export function otelExporterBuild(inputDir: string, outputDir: string): string[] {
  const esbuild = join(inputDir, 'node_modules', '.bin', 'esbuild');
  return [
    [
      `"${esbuild}" "${join(inputDir, OTEL_EXPORTER_ENTRY)}"`,
      '--bundle --platform=node --format=cjs --target=node22 --minify',
      `--outfile="${join(outputDir, OTEL_BUNDLE_FILE)}"`,
      // The module names its own file by import.meta only in the local build (for its export worker); here it is unused.
      '--sourcemap --sources-content=false --log-level=warning --log-override:empty-import-meta=silent',
    ].join(' '),
  ];
}
