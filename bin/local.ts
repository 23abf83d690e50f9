// Local server entry: `npm start` runs the whole gateway in one Node process on the embedded
// in-memory default. Reads the seed's environment variables; bad values stop it with a message.
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig } from '../functions/core/config';
import { createJsonLogger } from '../functions/core/logger';
import { composeGateway } from '../functions/adapters/compose';
import { ListenError, startServer } from '../functions/local/server';
import { createAdminApi, ensureBootstrapAdmin } from '../functions/admin';
import { isLoopbackHost } from '../functions/local/admin-guard';
import { localRoutes } from '../functions/local/routes';
import pkg from '../package.json';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env, (path) => readFileSync(path, 'utf8'), pkg.version);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`ai-gateway: configuration error: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createJsonLogger(config.logLevel, (line) => process.stdout.write(line));
  const { gateway, stores, state, usage } = await composeGateway(config, logger);
  // The admin API shares the process locally; in AWS it is its own function behind API Gateway.
  const { authEnabled, password } = config.admin;
  if (authEnabled && (await ensureBootstrapAdmin(stores.users, { password: password ?? 'admin' })) && !password) {
    logger.warn('created admin user "admin" with the default password "admin"; set ADMIN_PASSWORD');
  }
  if (!authEnabled && !isLoopbackHost(config.host)) {
    logger.warn(`listening beyond loopback (${config.host}) with the admin API unauthenticated (ADMIN_AUTH_ENABLED is not true): /admin/* answers only requests from loopback; set ADMIN_AUTH_ENABLED=true to manage the gateway remotely`);
  }
  const admin = createAdminApi({ tenants: stores.tenants, users: stores.users, audit: stores.audit, usage: usage.stores.store, tenantDefaults: config.tenantDefaults, authEnabled, trustProxy: config.trustProxy, logger });
  let running;
  try {
    running = await startServer({
      host: config.host,
      port: config.port,
      maxBodyBytes: config.maxBodyBytes,
      requestTimeoutMs: config.requestTimeoutMs,
      logger,
      ...localRoutes(gateway, admin, authEnabled),
    });
  } catch (err) {
    if (!(err instanceof ListenError)) throw err;
    // One line and a failing exit code: a supervisor or `npm start` must see that it did not start.
    process.stderr.write(`ai-gateway: ${err.message}\n`);
    process.exit(1);
  }
  logger.info('ai-gateway listening', {
    url: running.url,
    default_provider: config.defaultProvider,
    openai: config.openai.apiKey || config.openai.explicitBaseUrl ? 'configured' : 'unconfigured',
    ollama: config.ollama.baseUrl,
    tenants: stores.kind,
    state: state.backends,
    usage: usage.stores.backend,
    usage_queue: config.usage.queueUrl ? 'sqs' : 'in-process',
  });

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal, in_flight: running.inFlight() });
    // Hard stop if draining and closing take longer than SHUTDOWN_TIMEOUT.
    setTimeout(() => {
      logger.error('shutdown timeout reached; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    // Drain, then write back what requests left behind (usage events, budget settlements).
    running.shutdown(Math.min(config.drainTimeoutMs, config.shutdownTimeoutMs)).then(() => gateway.flush()).then(() => {
      logger.info('stopped');
      process.exit(0);
    }, () => process.exit(1));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

process.on('unhandledRejection', (reason) => {
  process.stderr.write(`ai-gateway: unhandled rejection: ${reason instanceof Error ? reason.stack : String(reason)}\n`);
});

// A start-up failure must never end in exit code 0 (it used to, leaving `npm start` "successful").
main().catch((err: unknown) => {
  process.stderr.write(`ai-gateway: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
