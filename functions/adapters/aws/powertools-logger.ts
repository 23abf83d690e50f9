// The core's Logger port on Powertools Logger: one JSON line per entry on stdout with the Lambda
// context (function_request_id, cold_start, ...) and the per-request keys a handler appends
// (request_id, provider, tenant); credentials and prompt text redacted at any depth.
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type { LogLevel } from '../../config';
import { levelEnabled, type LogFields, type Logger } from '../../core/logger';
import { redactingReplacer } from './redact';

const LEVEL = { debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR' } as const;

export interface LambdaLogger extends Logger {
  /** The Powertools instance, for its middy middleware (injectLambdaContext). */
  readonly powertools: PowertoolsLogger;
  /** Starts an invocation: drops the previous one's keys and adds this one's Lambda context. */
  startInvocation(context: Context): void;
  /** Keys carried by every later line of this invocation (request_id, provider, tenant). */
  appendKeys(fields: LogFields): void;
}

export function createLambdaLogger(level: LogLevel, serviceName?: string): LambdaLogger {
  const powertools = new PowertoolsLogger({
    logLevel: LEVEL[level],
    // POWERTOOLS_SERVICE_NAME, set by the stack, wins when no name is passed.
    ...(serviceName !== undefined ? { serviceName } : {}),
    jsonReplacerFn: redactingReplacer,
  });
  // Powertools merges an object argument into the line; fields stay top-level keys as in the local JSON logs.
  const emit =
    (fn: (message: string, fields: LogFields) => void) =>
    (message: string, fields?: LogFields): void =>
      fn(message, fields ?? {});
  return {
    powertools,
    debug: emit((m, f) => powertools.debug(m, f)),
    info: emit((m, f) => powertools.info(m, f)),
    warn: emit((m, f) => powertools.warn(m, f)),
    error: emit((m, f) => powertools.error(m, f)),
    enabled: (lvl) => levelEnabled(level, lvl),
    startInvocation(context) {
      powertools.resetKeys();
      powertools.addContext(context);
    },
    appendKeys(fields) {
      const keys: Record<string, string | number | boolean> = {};
      for (const [k, v] of Object.entries(fields)) if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') keys[k] = v;
      powertools.appendKeys(keys);
    },
  };
}
