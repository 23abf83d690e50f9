// A gateway instance as the multi-instance suites need it: the composed gateway behind the bare
// HTTP server (no admin routes, no bootstrap), on the environment and clock given, so several can
// share one store the way deployed instances do.
import { composeGateway, type ComposedGateway, type ComposeOptions } from '../../functions/adapters/compose';
import { loadConfig, type Env } from '../../functions/config';
import { silentLogger } from '../../functions/core/logger';
import { startServer, type RunningServer } from '../../functions/local/server';

export interface BareInstance {
  url: string;
  composed: ComposedGateway;
  server: RunningServer;
  /** Stops accepting, hands over what requests left behind (usage, settlements) and closes the store connections. */
  close(): Promise<void>;
}

/** `opts`: what the composition gets besides the clock (the PostgreSQL opener, when DATABASE_URL is set). */
export async function startBareInstance(env: Env, now: () => number, opts: Pick<ComposeOptions, 'openDatabase'> = {}): Promise<BareInstance> {
  const config = loadConfig({ ADDR: '127.0.0.1:0', ...env }, () => '', 'test');
  const composed = await composeGateway(config, silentLogger, { now, ...opts });
  const server = await startServer({
    host: config.host,
    port: config.port,
    maxBodyBytes: config.maxBodyBytes,
    logger: silentLogger,
    handle: (r) => composed.gateway.handle(r),
  });
  return {
    url: server.url,
    composed,
    server,
    close: async () => {
      await server.shutdown(500);
      await composed.gateway.flush();
      await composed.close();
    },
  };
}
