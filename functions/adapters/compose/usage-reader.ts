// Usage totals as a client's request reads them: under the guard of their shared store.
import type { UsageReader } from '../../core/ports';
import { GuardedUsageReader } from '../../core/resilience/usage-reader';
import type { StoreGuards } from '../../core/store-guard';
import type { UsageStores } from '../usage/backends';

export function guardedUsageReader(usage: UsageStores, guards: StoreGuards): UsageReader {
  return usage.backend === 'memory' ? usage.reader : new GuardedUsageReader(usage.reader, guards.for(usage.backend));
}
