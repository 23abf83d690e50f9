// functions/local — the local server: the node:http adapter (server.ts) and its protections (body
// budget, pending connections, lingering close, client errors), the local routes with the admin
// loopback rule, and this file, the whole local gateway as one function. Process concerns (signals,
// exit codes) belong in bin/local.ts; gateway rules in functions/core.
//
// The local gateway as one function: the chat gateway composed as `npm start` composes it, the
// first admin user, the admin API behind the loopback rule (routes.ts) and the HTTP server.
// Process concerns (signals, exit codes, stderr) stay with the caller, bin/local.ts; tests start
// exactly this.
import { createAdminApi, deriveSessionKey, ensureBootstrapAdmin, randomSessionKey } from '../admin';
import { loadOtlpTelemetry } from '../adapters/otel/load';
import { composeGateway, type ComposedGateway, type ComposeOptions } from '../adapters/compose';
import type { OpenDatabase } from '../adapters/database';
import type { GatewayConfig } from '../config';
import type { Logger } from '../core/logger';
import { defaultCredentialRefusal, isLoopbackHost } from './admin-guard';
import { invalidatingTenants } from './invalidating-tenants';
import { localRoutes } from './routes';
import { startServer, type RunningServer, type ServerOptions } from './server';
import { providerNames } from '../core/provider-names';
import { resolve } from 'node:path';
import { consoleFiles } from '../admin/console-files';

/** Where `npm run build` leaves the console, from the working directory `npm start` runs in. */
const DEFAULT_CONSOLE_DIR = 'dist/console';

export interface LocalGatewayOptions extends Pick<ComposeOptions, 'now' | 'providers' | 'stores' | 'ingresses' | 'sleep' | 'telemetry' | 'openDatabase'> {
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

/** PostgreSQL's stores, loaded only when DATABASE_URL selects them (a chunk of their own in the bundle). */
const openPostgres: OpenDatabase = async (settings, opts) => (await import('../adapters/postgres')).openPostgresStores(settings, opts);

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
    openDatabase: opts.openDatabase ?? openPostgres,
  });
  const { stores, tenantCache } = composed;
  // The admin API shares the process locally; in AWS it is its own function behind API Gateway.
  const { authEnabled, password } = config.admin;
  // The console's sign-in checks the admin users even with auth off, so the first admin exists either way.
  if ((await ensureBootstrapAdmin(stores.users, { password: password ?? 'admin' })) && !password && authEnabled) {
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
    alertClaims: composed.usage.stores.claims,
    providerStatus: {
      names: composed.configuredProviders,
      breakers: composed.state.breakerStore,
      cooldowns: composed.state.cooldownStore,
      breaker: config.routing.circuit_breaker,
    },
    tenantDefaults: config.tenantDefaults,
    providerNames: providerNames(config.routing),
    authEnabled,
    trustProxy: config.trustProxy,
    // One process signs and verifies: without ADMIN_SESSION_SECRET, sessions end when it stops.
    signInGuard: defaultCredentialRefusal,
    sessions: {
      key: config.admin.sessionSecret ? deriveSessionKey(config.admin.sessionSecret) : randomSessionKey(),
      ttlSeconds: config.admin.sessionTtlSeconds,
    },
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
      ...localRoutes(composed.gateway, admin, authEnabled, consoleFiles({ dir: resolve(config.admin.consoleDir ?? DEFAULT_CONSOLE_DIR) })),
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
