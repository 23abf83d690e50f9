// Starts the local gateway in-process on a random 127.0.0.1 port, as `npm start` starts it
// (functions/local/app.ts) but from an explicit environment, for tests that talk to it over real
// sockets.
import { readFileSync } from 'node:fs';
import { loadConfig, type Env } from '../../functions/config';
import { createJsonLogger, silentLogger } from '../../functions/core/logger';
import { MemoryTenantRepository } from '../../functions/adapters/memory/tenant-repository';
import type { Sleep } from '../../functions/core/cooldowns';
import type { ChatIngress } from '../../functions/core/ingress/ingress';
import type { Provider } from '../../functions/core/providers/provider';
import type { Telemetry } from '../../functions/core/ports/telemetry';
import { startLocalGateway, type LocalGateway } from '../../functions/local/app';

export interface TestGateway extends LocalGateway {
  /** The in-memory tenant store, for seeding tenants with `put(key, tenant)`. */
  tenants: MemoryTenantRepository;
  /** The OpenAI-SDK base URL, `<url>/v1`. */
  baseURL: string;
}

export interface StartOptions {
  log?: boolean;
  now?: () => number;
  providers?: Provider[];
  /** A GATEWAY_CONFIG document, handed over as the file the variable names. */
  routing?: Record<string, unknown>;
  /** The client chat APIs to serve instead of the default (OpenAI chat completions and Responses, Anthropic Messages). */
  ingresses?: readonly ChatIngress[];
  /** How a request waits out a cooldown (a fake one moves the test's clock). */
  sleep?: Sleep;
  /** Where the gateway's spans go (a RecordingTelemetry in tests). */
  telemetry?: Telemetry;
}

export async function startGateway(env: Env, opts: StartOptions = {}): Promise<TestGateway> {
  const files: Record<string, string> = {};
  if (opts.routing) files['gateway-config.json'] = JSON.stringify(opts.routing);
  const fullEnv = { ADDR: '127.0.0.1:0', ...(opts.routing ? { GATEWAY_CONFIG: 'gateway-config.json' } : {}), ...env };
  const config = loadConfig(fullEnv, (p) => files[p] ?? readFileSync(p, 'utf8'), 'test');
  const logger = opts.log ? createJsonLogger('debug', (l) => process.stderr.write(l)) : silentLogger;
  const local = await startLocalGateway(config, logger, {
    now: opts.now,
    providers: opts.providers,
    ingresses: opts.ingresses,
    sleep: opts.sleep,
    telemetry: opts.telemetry,
  });
  const tenants = local.stores.tenants;
  if (!(tenants instanceof MemoryTenantRepository)) {
    await local.close();
    throw new Error('startGateway: tests seed tenants in memory');
  }
  return Object.assign(local, { tenants, baseURL: `${local.url}/v1` });
}

export const DEFAULT_KEY = 'gw-default-key';
