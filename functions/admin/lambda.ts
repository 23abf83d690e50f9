// Lambda entry for the admin API behind API Gateway (HTTP API). Admin auth is always on here;
// stores come from TENANTS_TABLE (DynamoDB). ADMIN_PASSWORD, when given, creates the first admin.
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { readFileSync } from 'node:fs';
import { createStores } from '../adapters/stores';
import { loadConfig } from '../core/config';
import { createJsonLogger } from '../core/logger';
import { version } from '../../package.json';
import { ensureBootstrapAdmin } from './bootstrap';
import { createAdminHandler, type AdminHandler } from './handler';

const config = loadConfig(process.env, (path) => readFileSync(path, 'utf8'), version);
const logger = createJsonLogger(config.logLevel, (line) => process.stdout.write(line));

// Started during init; the first invocation waits for it.
const ready: Promise<AdminHandler> = createStores(config, Date.now).then(async (stores) => {
  if (config.admin.password) await ensureBootstrapAdmin(stores.users, { password: config.admin.password });
  return createAdminHandler({ tenants: stores.tenants, users: stores.users, audit: stores.audit, authEnabled: true, logger });
});
ready.catch((err: unknown) => logger.error('admin setup failed', { error: err instanceof Error ? err.message : String(err) }));

export async function handler(event: APIGatewayProxyEventV2, context: Context): Promise<unknown> {
  return (await ready)(event, context);
}
