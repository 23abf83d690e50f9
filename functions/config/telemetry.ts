// What the gateway's traces may hold. Where they are exported to is the exporter's concern.
import * as v from 'valibot';
import { boolean, readEnv, type Env } from './env';

export interface TelemetrySettings {
  /**
   * OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: record prompts and answers on provider
   * spans (as `gen_ai.input.messages` / `gen_ai.output.messages`, key-shaped text redacted). Off by default.
   */
  captureMessageContent: boolean;
}

const TelemetryEnv = v.object({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: v.optional(boolean) });

export function loadTelemetrySettings(env: Env): TelemetrySettings {
  const e = readEnv(env, TelemetryEnv);
  return { captureMessageContent: e.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT === true };
}
