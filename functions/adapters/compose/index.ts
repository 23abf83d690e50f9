// One composition per function: each builds only the stores and parts its function uses, on the
// backends selectBackends chose (../backends.ts).
export { composeGateway, type ComposedGateway, type ComposeOptions } from './gateway';
export { composeAdminStores, type AdminStoresOptions, type ComposedAdminStores } from './admin';
export { composeUsageApi, type ComposedUsageApi, type UsageApiOptions } from './usage-api';
export { composeAggregator, type ComposedAggregator } from './aggregator';
