// Runs the CooldownStore contract against memory, DynamoDB (real SDK clients on an embedded
// dynalite, a "state" table per test) and Redis (ioredis on a redis-server this file starts, a key
// prefix per test). Peers are separate clients on the same backend, as separate instances are.
import { DynamoCooldownStore } from '../../functions/adapters/dynamodb/cooldown-store';
import { MemoryCooldownStore } from '../../functions/adapters/memory/cooldown-store';
import { RedisCooldownStore } from '../../functions/adapters/redis/cooldown-store';
import { useStateBackends } from '../helpers/state-backends';
import { cooldownStoreContract } from './cooldown-store.contract';

const backends = useStateBackends('cool');

cooldownStoreContract('memory', async () => {
  const store = new MemoryCooldownStore();
  return { repo: store, peer: async () => store, cleanup: async () => {} };
});

cooldownStoreContract('dynamodb (dynalite)', async () => {
  const { tableName, cleanup } = await backends.freshStateTable();
  const own = backends.ownDocumentClient();
  return {
    repo: new DynamoCooldownStore(backends.doc, { tableName }),
    peer: async () => new DynamoCooldownStore(own, { tableName }),
    cleanup: async () => {
      own.destroy();
      await cleanup();
    },
  };
});

cooldownStoreContract('redis', async () => {
  const keyPrefix = backends.redisPrefix();
  const own = await backends.ownRedis();
  return {
    repo: new RedisCooldownStore(backends.redis, { prefix: keyPrefix }),
    peer: async () => new RedisCooldownStore(own, { prefix: keyPrefix }),
    cleanup: async () => void (await own.quit()),
  };
});
