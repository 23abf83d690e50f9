// The OTLP exporter when an endpoint is configured, loaded only then: a gateway that does not
// export loads nothing of the OpenTelemetry SDK (the local build puts it in a chunk of its own).
import type { GatewayConfig } from '../../config';
import type { Logger } from '../../core/logger';
import { logExportFailure } from './export-failure';
import type { ExportingTelemetry } from './telemetry';

export async function loadOtlpTelemetry(config: GatewayConfig, logger: Logger): Promise<ExportingTelemetry | undefined> {
  if (!config.otlp) return undefined;
  const { exportingTelemetry } = await import('./telemetry');
  // A long-running server: serialisation and export go to a worker thread, off the request path's.
  return exportingTelemetry(config.otlp, config.version, logExportFailure(logger), 'worker');
}
