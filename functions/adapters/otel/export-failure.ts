// What the gateway does when an export to the collector fails: a warning, its text redacted (an
// exporter's error may quote the headers it sent), and nothing else.
import type { Logger } from '../../core/logger';
import { redactText } from '../../core/redact';

export const logExportFailure =
  (logger: Logger) =>
  (err: unknown): void =>
    logger.warn('telemetry export failed', { error: redactText(String(err)) });
