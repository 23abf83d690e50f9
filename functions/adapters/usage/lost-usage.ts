import type { Logger } from '../../core/logger';
import type { UsageEvent } from '../../core/ports';

/**
 * The last resort for a usage event no queue or store would take: the whole event goes to the
 * log at error level, under a fixed message, so it can be found and replayed (the log is
 * durable: CloudWatch Logs in AWS). It holds ids, counts and cost, never a prompt or a key.
 */
export function keepLostUsage(logger: Logger, event: UsageEvent, err: unknown): void {
  logger.error('usage event not delivered; kept in the log for replay', { usage_event: event, error: errorText(err) });
}

/** Waits `ms` (retry back-off). */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What a log line says of a failure: its message, never a stack or a payload. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
