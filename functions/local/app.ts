// functions/local — the local server: the node:http adapter (server.ts) and its protections (body
// budget, pending connections, lingering close, client errors), the local routes with the admin
// loopback rule, and this file, the whole local gateway as one function. Process concerns (signals,
// exit codes) belong in bin/local.ts; gateway rules in functions/core.
//
// The local gateway as one function: the chat gateway composed as `npm start` composes it, the
// first admin user, the admin API behind the loopback rule (routes.ts) and the HTTP server.
// Process concerns (signals, exit codes, stderr) stay with the caller, bin/local.ts; tests start
// exactly this.
import { createAdminApi, ensureBootstrapAdmin } from '../admin';
import { loadOtlpTelemetry } from '../adapters/otel/load';
import { composeGateway, type ComposedGateway, type ComposeOptions } from '../adapters/compose';
import type { GatewayConfig } from '../config';
import type { Logger } from '../core/logger';
import { isLoopbackHost } from './admin-guard';
import { invalidatingTenants } from './invalidating-tenants';
import { localRoutes } from './routes';
import { startServer, type RunningServer, type ServerOptions } from './server';
import { providerNames } from '../core/provider-names';

export interface LocalGatewayOptions extends Pick<ComposeOptions, 'now' | 'providers' | 'stores' | 'ingresses' | 'sleep' | 'telemetry'> {
  /** Server settings beyond the configuration's (linger bounds, body budget, a logger of its own). */
  server?: Partial<Omit<ServerOptions, 'handle' | 'refuseBeforeBody' | 'errorAnswer' | 'refusalSpan'>>;
}

export interface LocalGateway extends ComposedGateway {
  url: string;
  server: RunningServer;
  /** Whether /admin/* asks for credentials (ADMIN_AUTH_ENABLED). */
  adminAuthEnabled: boolean;
  /**
   * Stops accepting, waits up to `drainMs` for requests in flight, writes back what they left
   * behind (usage events, budget settlements) and closes the shared store connections.
   */
  close(drainMs?: number): Promise<void>;
}

/** Throws ListenError when the address cannot be listened on. */
export async function startLocalGateway(config: GatewayConfig, logger: Logger, opts: LocalGatewayOptions = {}): Promise<LocalGateway> {
  // Spans go to the telemetry a caller passes, else to OTLP_ENDPOINT when it is set.
  const exporting = opts.telemetry ? undefined : await loadOtlpTelemetry(config, logger);
  const composed = await composeGateway(config, logger, {
    now: opts.now,
    providers: opts.providers,
    stores: opts.stores,
    ingresses: opts.ingresses,
    sleep: opts.sleep,
    telemetry: opts.telemetry ?? exporting,
  });
  const { stores, tenantCache } = composed;
  // The admin API shares the process locally; in AWS it is its own function behind API Gateway.
  const { authEnabled, password } = config.admin;
  if (authEnabled && (await ensureBootstrapAdmin(stores.users, { password: password ?? 'admin' })) && !password) {
    logger.warn('created admin user "admin" with the default password "admin"; set ADMIN_PASSWORD');
  }
  if (!authEnabled && !isLoopbackHost(config.host)) {
    logger.warn(
      `listening beyond loopback (${config.host}) with the admin API unauthenticated (ADMIN_AUTH_ENABLED is not true): ` +
        `/admin/* answers only requests from loopback; set ADMIN_AUTH_ENABLED=true to manage the gateway remotely`,
    );
  }
  const tenants = tenantCache ? invalidatingTenants(stores.tenants, tenantCache) : stores.tenants;
  const admin = createAdminApi({
    tenants,
    users: stores.users,
    audit: stores.audit,
    usage: composed.usage.stores.store,
    tenantDefaults: config.tenantDefaults,
    providerNames: providerNames(config.routing),
    authEnabled,
    trustProxy: config.trustProxy,
    logger,
  });
  let server: RunningServer;
  try {
    server = await startServer({
      host: config.host,
      port: config.port,
      maxBodyBytes: config.maxBodyBytes,
      requestTimeoutMs: config.requestTimeoutMs,
      logger,
      ...opts.server,
      ...localRoutes(composed.gateway, admin, authEnabled),
    });
  } catch (err) {
    await Promise.all([composed.close(), exporting?.shutdown()]);
    throw err;
  }
  return {
    ...composed,
    url: server.url,
    server,
    adminAuthEnabled: authEnabled,
    async close(drainMs = 1000) {
      await server.shutdown(drainMs);
      await composed.gateway.flush();
      await Promise.all([composed.close(), exporting?.shutdown()]);
    },
  };
}
