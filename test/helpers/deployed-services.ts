// What the deployed stack gives its functions, on 127.0.0.1: DynamoDB (dynalite) with the three
// tables and one tenant, the usage queue (fake SQS), Secrets Manager holding the provider keys
// and the first admin's credential (one fake answering both secrets), and an OpenAI upstream.
// `environment(fn)` is each function's environment as lib/constructs sets it, pointed at these,
// for bundles run in a child process (the tests of the built bundles and of the runtime client).
import { ensureTables, localTableNames } from '../../functions/adapters/dynamodb/tables';
import { createDocumentClient } from '../../functions/adapters/dynamodb/client';
import { DynamoTenantRepository } from '../../functions/adapters/dynamodb/tenant-repository';
import { DEFAULT_TENANT, hashApiKey } from '../../functions/core/tenants';
import { startFakeSecretsManager, startFakeSqs, type FakeAws, type FakeSecretsManager, type SqsRequest } from '../fakes/aws-services';
import { startScriptedUpstream, type ScriptedUpstream } from '../fakes/scripted-upstream';
import { startDynalite, uniqueTablePrefix, type RunningDynalite } from './dynalite';

export const TENANT_KEY = 'gw-deployed-tenant-key-0123456789';
export const ADMIN_PASSWORD = 'deployed-admin-password-0123456789';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ai-gateway/secret-AbCdEf';

export type DeployedFunction = 'chat' | 'admin' | 'usage' | 'aggregator';

export interface DeployedServices {
  dynalite: RunningDynalite;
  sqs: FakeAws<SqsRequest>;
  secrets: FakeSecretsManager;
  /** The OpenAI upstream; each test scripts its answers. */
  upstream: ScriptedUpstream;
  tables: ReturnType<typeof localTableNames>;
  /** The function's environment (the stack's variables, AWS endpoints on 127.0.0.1, tracing on as in Lambda). */
  environment(fn: DeployedFunction): Record<string, string>;
  close(): Promise<void>;
}

export async function startDeployedServices(): Promise<DeployedServices> {
  const [dynalite, sqs, secrets, upstream] = await Promise.all([startDynalite(), startFakeSqs(), startFakeSecretsManager(), startScriptedUpstream('/v1')]);
  secrets.text = JSON.stringify({ OPENAI_API_KEY: 'sk-deployed', ANTHROPIC_API_KEY: '', username: 'admin', password: ADMIN_PASSWORD });
  const tables = localTableNames(uniqueTablePrefix('deployed'));
  // The stack creates the tables and the admin API the tenants; here the helper does both.
  const doc = createDocumentClient({ endpoint: dynalite.endpoint });
  await ensureTables(doc, tables);
  const at = new Date().toISOString();
  await new DynamoTenantRepository(doc, { tableName: tables.tenants }).create({
    ...DEFAULT_TENANT,
    id: 'team-a',
    name: 'team-a',
    created_at: at,
    updated_at: at,
    version: 1,
    keys: [{ hash: hashApiKey(TENANT_KEY), prefix: TENANT_KEY.slice(0, 10), created_at: at }],
  });
  doc.destroy();

  const common: Record<string, string> = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint,
    AWS_ENDPOINT_URL_SQS: sqs.url,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    // As inside Lambda with active tracing: Powertools Tracer and the X-Ray SDK load and patch
    // http(s). The daemon address is a local port nothing listens on (UDP, fire and forget).
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:2000',
    LOG_LEVEL: 'info',
    NODE_OPTIONS: '--enable-source-maps',
    POWERTOOLS_METRICS_NAMESPACE: 'AiGateway',
    DEFAULT_PROVIDER: 'openai',
    OPENAI_BASE_URL: upstream.url,
    TENANTS_TABLE: tables.tenants,
    USAGE_TABLE: tables.usage,
  };
  const perFunction: Record<DeployedFunction, Record<string, string>> = {
    chat: {
      POWERTOOLS_SERVICE_NAME: 'ai-gateway-chat',
      DEFAULT_TENANT_ENABLED: 'false',
      STATE_TABLE: tables.state,
      USAGE_QUEUE_URL: `${sqs.url}/123456789012/ai-gateway-usage`,
      PROVIDER_SECRET_ARN: SECRET_ARN,
    },
    admin: { POWERTOOLS_SERVICE_NAME: 'ai-gateway-admin', DEFAULT_TENANT_ENABLED: 'false', ADMIN_SECRET_ARN: SECRET_ARN, STATE_TABLE: tables.state },
    usage: { POWERTOOLS_SERVICE_NAME: 'ai-gateway-usage', DEFAULT_TENANT_ENABLED: 'false' },
    aggregator: { POWERTOOLS_SERVICE_NAME: 'ai-gateway-aggregator', ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:ai-gateway-alerts' },
  };
  return {
    dynalite,
    sqs,
    secrets,
    upstream,
    tables,
    environment: (fn) => ({ ...common, ...perFunction[fn] }),
    close: async () => {
      await Promise.all([dynalite.close(), sqs.close(), secrets.close(), upstream.close()]);
    },
  };
}
