// Starts the local gateway in-process on a random 127.0.0.1 port, configured like `npm start`
// but from an explicit environment, for tests that talk to it over real sockets.
import { readFileSync } from 'node:fs';
import { loadConfig, type Env } from '../../functions/core/config';
import { createJsonLogger, silentLogger } from '../../functions/core/logger';
import { composeGateway, type ComposedGateway } from '../../functions/adapters/compose';
import { MemoryTenantRepository } from '../../functions/adapters/memory/tenant-repository';
import type { ChatIngress } from '../../functions/core/ingress/ingress';
import type { Provider } from '../../functions/core/providers/provider';
import { startServer, type RunningServer } from '../../functions/local/server';

export interface TestGateway extends ComposedGateway {
  /** The in-memory tenant store, for seeding tenants with `put(key, tenant)`. */
  tenants: MemoryTenantRepository;
  url: string;
  /** The OpenAI-SDK base URL, `<url>/v1`. */
  baseURL: string;
  server: RunningServer;
  close(): Promise<void>;
}

export interface StartOptions {
  log?: boolean;
  now?: () => number;
  providers?: Provider[];
  /** A GATEWAY_CONFIG document, handed over as the file the variable names. */
  routing?: Record<string, unknown>;
  /** The client chat APIs to serve instead of the default (OpenAI chat completions). */
  ingresses?: readonly ChatIngress[];
}

export async function startGateway(env: Env, opts: StartOptions = {}): Promise<TestGateway> {
  const files: Record<string, string> = {};
  if (opts.routing) files['gateway-config.json'] = JSON.stringify(opts.routing);
  const fullEnv = { ADDR: '127.0.0.1:0', ...(opts.routing ? { GATEWAY_CONFIG: 'gateway-config.json' } : {}), ...env };
  const config = loadConfig(fullEnv, (p) => files[p] ?? readFileSync(p, 'utf8'), 'test');
  const logger = opts.log ? createJsonLogger('debug', (l) => process.stderr.write(l)) : silentLogger;
  const local = await composeGateway(config, logger, { now: opts.now, providers: opts.providers, ingresses: opts.ingresses });
  const tenants = local.stores.tenants;
  if (!(tenants instanceof MemoryTenantRepository)) throw new Error('startGateway: tests seed tenants in memory');
  const server = await startServer({ host: config.host, port: config.port, maxBodyBytes: config.maxBodyBytes, logger, handle: (r) => local.gateway.handle(r) });
  return { ...local, tenants, server, url: server.url, baseURL: `${server.url}/v1`, close: async () => { await server.shutdown(1000); await local.state.close(); } };
}

export const DEFAULT_KEY = 'gw-default-key';
