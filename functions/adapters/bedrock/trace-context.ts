// The W3C trace context on a Bedrock call: the AWS SDK sends only X-Ray's `X-Amzn-Trace-Id`
// (when X-Ray tracing is active), so the attempt's `traceparent` and the client's `tracestate`
// are added to the command's HTTP request here, before it is signed.
import type { CallContext } from '../../core/providers/provider';

/** The slice of an SDK command this needs: its middleware stack. */
interface CommandWithMiddleware {
  middlewareStack: {
    add(
      middleware: (next: (args: { request: unknown }) => Promise<unknown>) => (args: { request: unknown }) => Promise<unknown>,
      options: { step: 'build'; name: string },
    ): void;
  };
}

/** Sends `ctx`'s trace context with `command`; nothing when telemetry is off (no traceparent). */
export function withTraceContext<C>(command: C, ctx: Pick<CallContext, 'traceparent' | 'tracestate'>): C {
  const { traceparent, tracestate } = ctx;
  if (!traceparent) return command;
  (command as unknown as CommandWithMiddleware).middlewareStack.add(
    (next) => (args) => {
      const headers = (args.request as { headers?: Record<string, string> }).headers;
      if (headers) {
        headers.traceparent = traceparent;
        if (tracestate) headers.tracestate = tracestate;
      }
      return next(args);
    },
    { step: 'build', name: 'w3cTraceContext' },
  );
  return command;
}
