// What the local server serves: /admin/* through the admin API (behind the loopback rule), the
// web console's files at /console/, everything else through the gateway core. Shared by bin/local.ts and the tests, so the tests
// exercise the wiring `npm start` runs.
import type { ApiHandler, ApiRequest, ApiResponse } from '../core/api-types';
import type { GatewayError } from '../core/errors';
import type { Gateway } from '../core/gateway';
import type { Span } from '../core/ports/telemetry';
import { isAdminPath } from '../admin/api';
import { isConsolePath } from '../admin/console-files';
import { adminRefusal } from './admin-guard';

export interface LocalRoutes {
  handle: ApiHandler;
  refuseBeforeBody: (req: Omit<ApiRequest, 'body'>) => Promise<ApiResponse | undefined>;
  /** The server's own refusals in the shape of the client API on their path. */
  errorAnswer: (path: string, error: GatewayError) => { status: number; body: unknown };
  /** The SERVER span of a request the server refuses itself. */
  refusalSpan: (req: Omit<ApiRequest, 'body'>, startMs: number) => Span;
}

/** `consoleFiles`: the console's static files (public: they hold no data; the API behind them asks for a session). */
export function localRoutes(
  gateway: Pick<Gateway, 'handle' | 'refuseBeforeBody' | 'errorAnswer' | 'refusalSpan'>,
  admin: ApiHandler,
  adminAuthEnabled: boolean,
  consoleFiles?: ApiHandler,
): LocalRoutes {
  return {
    handle: async (req) => {
      if (consoleFiles && isConsolePath(req.path)) return consoleFiles(req);
      if (!isAdminPath(req.path)) return gateway.handle(req);
      return adminRefusal(req, adminAuthEnabled) ?? admin(req);
    },
    refuseBeforeBody: async (req) => {
      if (consoleFiles && isConsolePath(req.path)) return undefined;
      return isAdminPath(req.path) ? adminRefusal(req, adminAuthEnabled) : gateway.refuseBeforeBody(req);
    },
    errorAnswer: (path, error) => gateway.errorAnswer(path, error),
    refusalSpan: (req, startMs) => gateway.refusalSpan(req, startMs),
  };
}
