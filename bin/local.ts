// bin — the process entries: local.ts (`npm start`: the gateway in one Node process) and ai-gateway.ts
// (the CDK app cdk.json runs). Only process concerns belong here: the environment or CDK context read
// at start, exit codes, stderr, signals. The local gateway itself is functions/local/app.ts; the
// stack and its constructs are in lib/.
//
// Local server entry: `npm start` runs the whole gateway in one Node process on the embedded
// in-memory default. Reads the seed's environment variables; bad values stop it with a message.
// The gateway itself is started by functions/local/app.ts; this file holds the process concerns:
// exit codes, stderr, signals and the shutdown deadline.
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig, type GatewayConfig } from '../functions/config';
import { createJsonLogger } from '../functions/core/logger';
import { startLocalGateway, type LocalGateway } from '../functions/local/app';
import { ListenError } from '../functions/local/server';
import pkg from '../package.json';

async function main(): Promise<void> {
  let config: GatewayConfig;
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
  let app: LocalGateway;
  try {
    app = await startLocalGateway(config, logger);
  } catch (err) {
    // A named provider's key variable that is not set is found while the providers are built.
    if (err instanceof ConfigError) {
      process.stderr.write(`ai-gateway: configuration error: ${err.message}\n`);
      process.exit(1);
    }
    if (!(err instanceof ListenError)) throw err;
    // One line and a failing exit code: a supervisor or `npm start` must see that it did not start.
    process.stderr.write(`ai-gateway: ${err.message}\n`);
    process.exit(1);
  }
  logger.info('ai-gateway listening', {
    url: app.url,
    default_provider: config.defaultProvider,
    openai: config.openai.apiKey || config.openai.explicitBaseUrl ? 'configured' : 'unconfigured',
    ollama: config.ollama.baseUrl,
    tenants: app.backends.tenants,
    state: {
      limiter: app.backends.limiter,
      cache: app.backends.cache,
      responses: app.backends.responses,
      breaker: app.backends.breaker,
      budget: app.backends.budget,
    },
    usage: app.usage.stores.backend,
    alert_claims: app.backends.alertClaims,
    usage_queue: config.usage.queueUrl ? 'sqs' : 'in-process',
  });

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal, in_flight: app.server.inFlight() });
    // Hard stop if draining and closing take longer than SHUTDOWN_TIMEOUT.
    setTimeout(() => {
      logger.error('shutdown timeout reached; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    // Drain, then write back what requests left behind (usage events, budget settlements).
    app.close(Math.min(config.drainTimeoutMs, config.shutdownTimeoutMs)).then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      () => process.exit(1),
    );
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
