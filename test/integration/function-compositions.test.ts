// Each function's composition over a real DynamoDB (dynalite): the aggregator applies a usage
// event, and the usage API and the admin API read it back, each building only the stores its
// function uses (none of them touches the request-path state table).
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { composeAdminStores, composeAggregator, composeUsageApi } from '../../functions/adapters/compose';
import { loadConfig, type GatewayConfig } from '../../functions/config';
import { silentLogger } from '../../functions/core/logger';
import { usageEvent } from '../contract/usage-store.contract';
import { DEFAULT_TENANT_KEY, hashApiKey } from '../../functions/core/tenants';
import { startDynalite, uniqueTablePrefix, type RunningDynalite } from '../helpers/dynalite';

const monthStart = (at: Date): string => new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1)).toISOString();

describe('one composition per function, on DynamoDB', () => {
  let dynalite: RunningDynalite;
  let config: GatewayConfig;
  const prefix = uniqueTablePrefix('compose');
  const saved = { ...process.env };

  beforeAll(async () => {
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_REGION: 'us-east-1' });
    dynalite = await startDynalite();
    config = loadConfig(
      {
        DYNAMODB_ENDPOINT: dynalite.endpoint,
        TENANTS_TABLE: `${prefix}tenants`,
        USAGE_TABLE: `${prefix}usage`,
        STATE_TABLE: `${prefix}state`,
      },
      () => '{}',
      'test',
    );
  });
  afterAll(async () => {
    await dynalite.close();
    process.env = saved;
  });

  test('the aggregator writes what the usage API and the admin API read; no state table is created', async () => {
    const at = new Date();
    const aggregator = await composeAggregator(config, silentLogger);
    expect(
      await aggregator.aggregator.processBatch([
        { id: 'm-1', body: JSON.stringify(usageEvent({ tenant_id: 'default', model: 'gpt-4o-mini', cost_usd: 0.25, timestamp: at.toISOString() })) },
      ]),
    ).toEqual([]);

    const usageApi = await composeUsageApi(config, silentLogger);
    const tenant = await usageApi.tenants.findByKeyHash(hashApiKey(DEFAULT_TENANT_KEY));
    expect(tenant?.id).toBe('default');
    expect(await usageApi.usage.totals('default', monthStart(at), at.toISOString())).toMatchObject({ cost_usd: 0.25, request_count: 1 });
    expect(usageApi.guards.statuses()).toEqual({ dynamodb: 'ok' });

    const admin = await composeAdminStores(config, silentLogger);
    expect(await admin.stores.tenants.get('default')).toMatchObject({ id: 'default' });
    expect(await admin.usage.totals('default', monthStart(at), at.toISOString())).toMatchObject({ cost_usd: 0.25 });

    const client = new DynamoDBClient({ endpoint: dynalite.endpoint });
    const tables = await client.send(new ListTablesCommand({}));
    client.destroy();
    expect(tables.TableNames).toEqual(expect.arrayContaining([`${prefix}tenants`, `${prefix}usage`]));
    expect(tables.TableNames).not.toContain(`${prefix}state`);
    await Promise.all([aggregator.close(), usageApi.close(), admin.close()]);
  });
});

describe('one composition per function, in memory', () => {
  test('the usage API finds the documented local key and reads empty totals', async () => {
    const usageApi = await composeUsageApi(
      loadConfig({}, () => '{}', 'test'),
      silentLogger,
    );
    expect(usageApi.backends.usage).toBe('memory');
    const tenant = await usageApi.tenants.findByKeyHash(hashApiKey(DEFAULT_TENANT_KEY));
    expect(tenant?.id).toBe('default');
    expect(await usageApi.usage.totals('default', '2026-01-01T00:00:00Z', '2026-01-31T00:00:00Z')).toMatchObject({ cost_usd: 0, request_count: 0 });
  });
});
