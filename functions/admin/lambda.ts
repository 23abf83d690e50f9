// Lambda entry for the admin API and the web console's files (/console/) behind API Gateway
// (HTTP API). Admin auth is always on here; stores come from TENANTS_TABLE (DynamoDB). The first
// admin comes from the credential the stack generates into Secrets Manager (ADMIN_SECRET_ARN) or,
// failing that, ADMIN_PASSWORD.
// The edge: middy over the HTTP API event → ApiRequest → the admin ApiHandler → result, with
// middy's JSON body parser, the OpenAI error JSON for anything thrown, and the tracer.
import type { Context } from 'aws-lambda';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { readAdminCredential } from '../adapters/aws/admin-credential';
import { createLambdaLogger } from '../adapters/aws/powertools-logger';
import { loadTracing } from '../adapters/aws/tracing';
import type { HttpApiEvent, HttpApiResult } from '../adapters/lambda/http-api';
import { httpApiEdge, type HttpApiEdge } from '../adapters/lambda/http-api-edge';
import { composeAdminStores } from '../adapters/compose/admin';
import { loadConfig } from '../config';
import { version } from '../../package.json';
import { ensureBootstrapAdmin, type BootstrapOptions } from './bootstrap';
import { createAdminApi } from './api';
import { consoleFiles, isConsolePath } from './console-files';
import { deriveSessionKey, randomSessionKey, type SessionKey } from './session-token';
import { providerNames } from '../core/provider-names';

const config = loadConfig(process.env, (path) => readFileSync(path, 'utf8'), version);
const logger = createLambdaLogger(config.logLevel);

/** The first admin's credential: the generated secret wins over ADMIN_PASSWORD. */
async function bootstrapCredential(): Promise<BootstrapOptions | undefined> {
  const arn = config.secrets.adminSecretArn;
  if (arn) return readAdminCredential(arn);
  return config.admin.password ? { password: config.admin.password } : undefined;
}

/**
 * Console sessions are signed with ADMIN_SESSION_SECRET, else with a key derived from the admin
 * credential every instance reads (the generated secret, or ADMIN_PASSWORD), so any instance
 * verifies any session; with neither, each instance signs its own and sessions do not carry over.
 */
function sessionKey(credential: BootstrapOptions | undefined): SessionKey {
  const material = config.admin.sessionSecret ?? credential?.password;
  if (material !== undefined) return deriveSessionKey(material);
  logger.warn('console sessions are signed with a key of this instance only: set ADMIN_SESSION_SECRET or ADMIN_SECRET_ARN');
  return randomSessionKey();
}

// Started during init; the first invocation waits for it.
const ready: Promise<HttpApiEdge> = Promise.all([
  // Failed-login counts are shared by every instance through the state table when the stack
  // gives this function one (STATE_TABLE set, with read/write access); otherwise per instance.
  composeAdminStores(config, logger, { sharedLoginThrottle: process.env.STATE_TABLE !== undefined }),
  bootstrapCredential(),
  loadTracing(),
]).then(async ([{ stores, usage, alertClaims, providerStatus, throttle }, credential, tracing]) => {
  if (credential) {
    const created = await ensureBootstrapAdmin(stores.users, credential);
    if (created)
      logger.info('first admin user created', {
        username: credential.username ?? 'admin',
        from: config.secrets.adminSecretArn ? 'ADMIN_SECRET_ARN' : 'ADMIN_PASSWORD',
      });
  }
  const api = createAdminApi({
    tenants: stores.tenants,
    users: stores.users,
    audit: stores.audit,
    usage,
    alertClaims,
    providerStatus,
    tenantDefaults: config.tenantDefaults,
    providerNames: providerNames(config.routing),
    authEnabled: true,
    trustProxy: config.trustProxy,
    sessions: { key: sessionKey(credential), ttlSeconds: config.admin.sessionTtlSeconds },
    // Browsers reach API Gateway over https only.
    scheme: 'https',
    throttle,
    logger,
  });
  // The console's files ship in the function's asset, beside the bundle (see lib/constructs/admin-api.ts).
  const files = consoleFiles({ dir: config.admin.consoleDir ?? join(__dirname, 'console') });
  const handler = httpApiEdge((req) => (isConsolePath(req.path) ? files(req) : api(req)), { maxBodyBytes: config.maxBodyBytes, logger, parseJson: true });
  return tracing ? handler.use(captureLambdaHandler(tracing.tracer)) : handler;
});
ready.catch((err: unknown) => logger.error('admin setup failed', { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }));

export async function handler(event: HttpApiEvent, context: Context): Promise<HttpApiResult> {
  logger.startInvocation(context);
  return (await ready)(event, context);
}
