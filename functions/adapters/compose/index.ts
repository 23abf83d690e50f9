// functions/adapters/compose — one small composition per function (chat gateway, admin API, usage
// API, usage aggregator), each building only the stores and parts its function uses, on the backends
// selectBackends chose (../backends.ts). The Lambda entries and the local app call these; event
// conversion stays in adapters/lambda/, store code in the backend folders.
export { assembleGateway, composeFoundation, composeGateway, type ComposedGateway, type ComposeOptions, type GatewayFoundation } from './gateway';
export { composeAdminStores, type AdminStoresOptions, type ComposedAdminStores } from './admin';
export { composeUsageApi, type ComposedUsageApi, type UsageApiOptions } from './usage-api';
export { composeAggregator, type ComposedAggregator } from './aggregator';
