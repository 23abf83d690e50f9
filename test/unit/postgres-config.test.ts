// DATABASE_URL as the configuration reads it: PostgreSQL for every durable store family, Redis or
// memory for the rest; ENCRYPTION_KEY validated; PostgreSQL refused where no opener is given (the
// Lambda compositions), and the driver absent from the Lambda bundles.
import { build } from 'esbuild';
import { selectBackends } from '../../functions/adapters/backends';
import { createStores } from '../../functions/adapters/stores';
import { createUsageStores } from '../../functions/adapters/usage/backends';
import { ConfigError, loadConfig, type Env } from '../../functions/config';

const config = (env: Env) => loadConfig(env, () => '', 'test');
const URL_ = 'postgres://gateway:secret@db.internal:5432/gateway?sslmode=require';

test('DATABASE_URL selects PostgreSQL for every durable family, Redis or memory for the rest', () => {
  const alone = config({ DATABASE_URL: URL_ });
  expect(alone.storage).toEqual({ kind: 'postgres' });
  expect(alone.database).toEqual({
    url: URL_,
    poolMax: 10,
    connectTimeoutMs: 5000,
    statementTimeoutMs: 10_000,
    idleTimeoutMs: 30_000,
    migrateAtStart: true,
  });
  expect(selectBackends(alone)).toEqual({
    tenants: 'postgres',
    limiter: 'memory',
    cache: 'memory',
    responses: 'postgres',
    breaker: 'memory',
    budget: 'postgres',
    usage: 'postgres',
    alertClaims: 'postgres',
  });
  const paired = config({
    DATABASE_URL: URL_,
    REDIS_URL: 'redis://cache:6379',
    USE_DISTRIBUTED_CB: 'true',
    DATABASE_POOL_MAX: '25',
    DATABASE_MIGRATE: 'false',
  });
  expect(paired.database).toMatchObject({ poolMax: 25, migrateAtStart: false });
  expect(selectBackends(paired)).toMatchObject({ limiter: 'redis', cache: 'redis', breaker: 'redis', budget: 'postgres', usage: 'postgres' });
});

test('a DATABASE_URL of another scheme, or together with DynamoDB, stops the start', () => {
  expect(() => config({ DATABASE_URL: 'mysql://db/x' })).toThrow('DATABASE_URL must use postgres:// or postgresql://');
  expect(() => config({ DATABASE_URL: URL_, DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000' })).toThrow(ConfigError);
  expect(() => config({ DATABASE_URL: URL_, DATABASE_POOL_MAX: '0' })).toThrow('DATABASE_POOL_MAX');
});

test('ENCRYPTION_KEY takes 32 bytes as hex or base64 and refuses anything else', () => {
  const bytes = Buffer.alloc(32, 7);
  expect(config({ ENCRYPTION_KEY: bytes.toString('hex') }).encryptionKey).toEqual(bytes);
  expect(config({ ENCRYPTION_KEY: bytes.toString('base64') }).encryptionKey).toEqual(bytes);
  expect(config({}).encryptionKey).toBeUndefined();
  for (const bad of [Buffer.alloc(31).toString('hex'), Buffer.alloc(33).toString('base64'), 'not a key']) {
    expect(() => config({ ENCRYPTION_KEY: bad })).toThrow('ENCRYPTION_KEY must be 32 bytes');
  }
});

test('without an opener (the Lambda compositions) DATABASE_URL is refused with a reason', async () => {
  await expect(createStores(config({ DATABASE_URL: URL_ }), Date.now)).rejects.toThrow('PostgreSQL keeps the state of the local server');
});

test.each(['functions/chat/handler.ts', 'functions/admin/lambda.ts', 'functions/usage/api-lambda.ts', 'functions/usage/aggregator-lambda.ts'])(
  'the Lambda bundle of %s holds neither the pg driver nor the PostgreSQL adapters',
  async (entry) => {
    const out = await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node22',
      external: ['@aws-sdk/*', '@smithy/*'],
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(out.metafile.inputs);
    expect(inputs.filter((p) => p.includes('node_modules/pg') || p.includes('adapters/postgres'))).toEqual([]);
  },
  30_000,
);

test('the usage stores refuse DATABASE_URL without an open database (the aggregator function) rather than count in memory', async () => {
  await expect(createUsageStores(config({ DATABASE_URL: URL_ }), {}, Date.now)).rejects.toThrow('PostgreSQL keeps the state of the local server');
});
