// Which backend each family of stores lands on, for each way of configuring the gateway: one
// precedence (functions/adapters/backends.ts) that every function's composition follows.
import { selectBackends, type Backends } from '../../functions/adapters/backends';
import { loadConfig, type Env } from '../../functions/config';

const REDIS = { REDIS_URL: 'redis://127.0.0.1:6379' };
const LOCAL_DYNAMO = { DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000' };
const DEPLOYED = { TENANTS_TABLE: 'gw-tenants', STATE_TABLE: 'gw-state', USAGE_TABLE: 'gw-usage' };

const all = (b: Backends['limiter']): Omit<Backends, 'tenants'> => ({ limiter: b, cache: b, responses: b, breaker: b, budget: b, usage: b, alertClaims: b });

const cases: Array<[string, Env, Backends]> = [
  ['nothing set: everything in memory', {}, { tenants: 'memory', ...all('memory') }],
  ['USE_DISTRIBUTED_CB without Redis changes nothing', { USE_DISTRIBUTED_CB: 'true' }, { tenants: 'memory', ...all('memory') }],
  ['DYNAMODB_ENDPOINT: everything in DynamoDB', LOCAL_DYNAMO, { tenants: 'dynamodb', ...all('dynamodb') }],
  ['TENANTS_TABLE (deployed): everything in DynamoDB', { TENANTS_TABLE: 'gw-tenants' }, { tenants: 'dynamodb', ...all('dynamodb') }],
  ["the deployed stack's tables", DEPLOYED, { tenants: 'dynamodb', ...all('dynamodb') }],
  [
    'USAGE_TABLE alone: only usage in DynamoDB',
    { USAGE_TABLE: 'gw-usage' },
    { tenants: 'memory', ...all('memory'), usage: 'dynamodb', alertClaims: 'dynamodb' },
  ],
  [
    'REDIS_URL: request-path state and usage in Redis, the breaker per instance',
    REDIS,
    { tenants: 'memory', limiter: 'redis', cache: 'redis', responses: 'redis', breaker: 'memory', budget: 'redis', usage: 'redis', alertClaims: 'redis' },
  ],
  ['REDIS_URL + USE_DISTRIBUTED_CB: the breaker in Redis too', { ...REDIS, USE_DISTRIBUTED_CB: 'true' }, { tenants: 'memory', ...all('redis') }],
  [
    'REDIS_URL + USAGE_TABLE: usage prefers DynamoDB',
    { ...REDIS, USAGE_TABLE: 'gw-usage' },
    { tenants: 'memory', limiter: 'redis', cache: 'redis', responses: 'redis', breaker: 'memory', budget: 'redis', usage: 'dynamodb', alertClaims: 'dynamodb' },
  ],
  [
    'REDIS_URL + DynamoDB tenants: state in Redis, breaker and usage in DynamoDB',
    { ...REDIS, ...LOCAL_DYNAMO },
    {
      tenants: 'dynamodb',
      limiter: 'redis',
      cache: 'redis',
      responses: 'redis',
      breaker: 'dynamodb',
      budget: 'redis',
      usage: 'dynamodb',
      alertClaims: 'dynamodb',
    },
  ],
  [
    'REDIS_URL + USE_DISTRIBUTED_CB + the deployed tables',
    { ...REDIS, USE_DISTRIBUTED_CB: 'true', ...DEPLOYED },
    {
      tenants: 'dynamodb',
      limiter: 'redis',
      cache: 'redis',
      responses: 'redis',
      breaker: 'redis',
      budget: 'redis',
      usage: 'dynamodb',
      alertClaims: 'dynamodb',
    },
  ],
];

describe('selectBackends', () => {
  test.each(cases)('%s', (_name, env, expected) => {
    expect(selectBackends(loadConfig(env, () => '{}', 'test'))).toEqual(expected);
  });
});
