// The CDK stack as CloudFormation: functions, the streaming function URL, tables, the cost
// pipeline, the HTTP API, secrets, dashboard, alarms, outputs and the settings from context.
// Synthesized once without bundling (cdk-synth.test.ts bundles for real).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { TABLES } from '../../functions/adapters/dynamodb/tables';
import { METRIC } from '../../functions/core/metrics';
import { REDIS, resourceId, synth, type CfnResource } from './synth';

let template: Template;
beforeAll(() => {
  template = synth().template;
});

const FUNCTIONS = {
  chat: 'ChatApiChatFunction',
  admin: 'AdminApiAdminFunction',
  usage: 'AdminApiUsageFunction',
  aggregator: 'CostPipelineAggregatorFunction',
} as const;

function fn(t: Template, name: keyof typeof FUNCTIONS): CfnResource {
  return t.toJSON().Resources[resourceId(t, 'AWS::Lambda::Function', FUNCTIONS[name])] as CfnResource;
}
const variables = (f: CfnResource): Record<string, unknown> => (f.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
const ref = (t: Template, type: string, prefix: string): { Ref: string } => ({ Ref: resourceId(t, type, prefix) });

describe('functions', () => {
  test('four functions, each Node.js 24 on arm64, CommonJS bundle handler, active tracing, own log group (30 days) and role', () => {
    template.resourceCountIs('AWS::Lambda::Function', 4);
    template.resourceCountIs('AWS::Logs::LogGroup', 5); // + the HTTP API access logs
    for (const name of Object.keys(FUNCTIONS) as Array<keyof typeof FUNCTIONS>) {
      const f = fn(template, name);
      expect(f.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler', TracingConfig: { Mode: 'Active' } });
      const logGroup = (f.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(template.toJSON().Resources[logGroup].Properties.RetentionInDays).toBe(30);
      expect(variables(f)).toMatchObject({
        POWERTOOLS_SERVICE_NAME: 'ai-gateway',
        POWERTOOLS_METRICS_NAMESPACE: 'AiGateway',
        LOG_LEVEL: 'info',
        NODE_OPTIONS: '--enable-source-maps',
      });
    }
    // Roles carry no AWS managed policy (AWSLambdaBasicExecutionRole could write to any log group).
    for (const role of Object.values(template.findResources('AWS::IAM::Role')) as CfnResource[]) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  test('chat: 15 minutes, 1024 MB, and exactly the contract variables', () => {
    const chat = fn(template, 'chat');
    expect(chat.Properties).toMatchObject({ Timeout: 900, MemorySize: 1024 });
    const env = variables(chat);
    expect(Object.keys(env).sort()).toEqual([
      'DEFAULT_PROVIDER',
      'DEFAULT_TENANT_ENABLED',
      'LOG_LEVEL',
      'NODE_OPTIONS',
      'POWERTOOLS_METRICS_NAMESPACE',
      'POWERTOOLS_SERVICE_NAME',
      'PROVIDER_SECRET_ARN',
      'STATE_TABLE',
      'TENANTS_TABLE',
      'USAGE_QUEUE_URL',
      'USAGE_TABLE',
    ]);
    expect(env).toMatchObject({
      DEFAULT_PROVIDER: 'bedrock',
      DEFAULT_TENANT_ENABLED: 'false',
      TENANTS_TABLE: ref(template, 'AWS::DynamoDB::Table', 'StorageTenantsTable'),
      STATE_TABLE: ref(template, 'AWS::DynamoDB::Table', 'StorageStateTable'),
      USAGE_TABLE: ref(template, 'AWS::DynamoDB::Table', 'StorageUsageTable'),
      USAGE_QUEUE_URL: ref(template, 'AWS::SQS::Queue', 'CostPipelineUsageQueue'),
      PROVIDER_SECRET_ARN: ref(template, 'AWS::SecretsManager::Secret', 'SecretsProviderKeys'),
    });
  });

  test('admin, usage API and aggregator get only their own variables; none may seed the local default tenant', () => {
    const tenants = ref(template, 'AWS::DynamoDB::Table', 'StorageTenantsTable');
    const usage = ref(template, 'AWS::DynamoDB::Table', 'StorageUsageTable');
    expect(variables(fn(template, 'admin'))).toMatchObject({
      TENANTS_TABLE: tenants,
      USAGE_TABLE: usage,
      DEFAULT_TENANT_ENABLED: 'false',
      ADMIN_SECRET_ARN: ref(template, 'AWS::SecretsManager::Secret', 'SecretsAdminCredential'),
    });
    expect(variables(fn(template, 'usage'))).toMatchObject({ TENANTS_TABLE: tenants, USAGE_TABLE: usage, DEFAULT_TENANT_ENABLED: 'false' });
    expect(variables(fn(template, 'aggregator'))).toMatchObject({
      USAGE_TABLE: usage,
      ALERT_TOPIC_ARN: ref(template, 'AWS::SNS::Topic', 'CostPipelineAlertTopic'),
    });
    for (const name of ['admin', 'usage', 'aggregator'] as const) {
      const env = variables(fn(template, name));
      for (const chatOnly of ['PROVIDER_SECRET_ARN', 'USAGE_QUEUE_URL', 'DEFAULT_PROVIDER']) expect(env[chatOnly]).toBeUndefined();
    }
    // The state table: the chat function's, and the admin function's for shared failed-login counts.
    expect(variables(fn(template, 'admin')).STATE_TABLE).toEqual({ Ref: expect.stringMatching(/^StorageStateTable/) });
    for (const name of ['usage', 'aggregator'] as const) expect(variables(fn(template, name)).STATE_TABLE).toBeUndefined();
    expect(variables(fn(template, 'aggregator')).TENANTS_TABLE).toBeUndefined();
    // No function is in a VPC by default.
    for (const name of Object.keys(FUNCTIONS) as Array<keyof typeof FUNCTIONS>) expect(fn(template, name).Properties.VpcConfig).toBeUndefined();
  });

  test('the function URL streams responses and is public (the gateway checks tenant keys)', () => {
    template.resourceCountIs('AWS::Lambda::Url', 1);
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      InvokeMode: 'RESPONSE_STREAM',
      TargetFunctionArn: { 'Fn::GetAtt': [Match.stringLikeRegexp(`^${FUNCTIONS.chat}`), 'Arn'] },
    });
    // Public function URLs need both grants since AWS's October 2025 change.
    template.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunctionUrl', FunctionUrlAuthType: 'NONE', Principal: '*' });
    template.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunction', InvokedViaFunctionUrl: true, Principal: '*' });
  });
});

describe('storage', () => {
  test('three on-demand tables keyed as TABLES says, with PITR, encryption, TTL where defined, retained except state', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 3);
    const expectations = {
      tenants: ['StorageTenantsTable', 'Retain'],
      state: ['StorageStateTable', 'Delete'],
      usage: ['StorageUsageTable', 'Retain'],
    } as const;
    for (const [name, [prefix, policy]] of Object.entries(expectations) as Array<[keyof typeof TABLES, readonly [string, string]]>) {
      const def = TABLES[name];
      const table = template.toJSON().Resources[resourceId(template, 'AWS::DynamoDB::Table', prefix)] as CfnResource;
      expect(table.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: def.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: def.sortKey.name, KeyType: 'RANGE' },
        ],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      });
      const ttl = 'ttlAttribute' in def ? def.ttlAttribute : undefined;
      expect(table.Properties.TimeToLiveSpecification).toEqual(ttl === undefined ? undefined : { AttributeName: ttl, Enabled: true });
      expect([table.DeletionPolicy, table.UpdateReplacePolicy]).toEqual([policy, policy]);
    }
  });

  test('secrets: provider keys as JSON with empty placeholders, admin credential generated', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 2);
    template.hasResourceProperties('AWS::SecretsManager::Secret', { SecretString: JSON.stringify({ OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '' }) });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { SecretStringTemplate: JSON.stringify({ username: 'admin' }), GenerateStringKey: 'password', PasswordLength: 32 },
    });
  });
});

describe('cost pipeline', () => {
  test('usage queue with a dead-letter queue (redrive after 5 receives, 14 days), both encrypted and TLS-only', () => {
    template.resourceCountIs('AWS::SQS::Queue', 2);
    const dlq = resourceId(template, 'AWS::SQS::Queue', 'CostPipelineUsageDeadLetterQueue');
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 180,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] }, maxReceiveCount: 5 },
    });
    expect((template.toJSON().Resources[dlq] as CfnResource).Properties).toMatchObject({ MessageRetentionPeriod: 14 * 86400, SqsManagedSseEnabled: true });
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy')) as CfnResource[];
    expect(policies).toHaveLength(2);
    for (const p of policies) {
      expect(p.Properties.PolicyDocument).toMatchObject({ Statement: [{ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }] });
    }
  });

  test('the aggregator consumes the queue in batches of 100 with partial batch responses', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [resourceId(template, 'AWS::SQS::Queue', 'CostPipelineUsageQueue'), 'Arn'] },
      FunctionName: { Ref: resourceId(template, 'AWS::Lambda::Function', FUNCTIONS.aggregator) },
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  test('alert topic (TLS-only) with an e-mail subscription that exists only when the AlertEmail parameter is set', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
    template.hasParameter('AlertEmail', { Type: 'String', Default: '', AllowedPattern: Match.anyValue() });
    const subscription = Object.values(template.findResources('AWS::SNS::Subscription')) as CfnResource[];
    expect(subscription).toHaveLength(1);
    expect(subscription[0]?.Properties).toEqual({
      Protocol: 'email',
      Endpoint: { Ref: 'AlertEmail' },
      TopicArn: ref(template, 'AWS::SNS::Topic', 'CostPipelineAlertTopic'),
    });
    const condition = subscription[0]?.Condition as string;
    expect(template.toJSON().Conditions[condition]).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AlertEmail' }, ''] }] });

    // Context alertEmail becomes the parameter's default; a malformed address fails the synth.
    synth({ alertEmail: 'ops@example.com' }).template.hasParameter('AlertEmail', { Default: 'ops@example.com' });
    expect(() => synth({ alertEmail: 'not-an-address' })).toThrow(/alertEmail must be an e-mail address/);
  });
});

describe('admin and usage API', () => {
  test('one HTTP API: ANY /admin/{proxy+} and GET/HEAD /console[/{proxy+}] to the admin function, GET /v1/usage to the usage function', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.resourceCountIs('AWS::ApiGatewayV2::Route', 6);
    // The console's files and the admin API share one integration: one invoke permission.
    template.resourceCountIs('AWS::ApiGatewayV2::Integration', 2);
    const integrationFor = (fnPrefix: string): string => {
      const fnId = resourceId(template, 'AWS::Lambda::Function', fnPrefix);
      const [id] = Object.entries(template.findResources('AWS::ApiGatewayV2::Integration'))
        .filter(([, r]) => JSON.stringify((r as CfnResource).Properties.IntegrationUri).includes(fnId))
        .map(([k]) => k);
      return id as string;
    };
    for (const [routeKey, fnPrefix] of [
      ['ANY /admin/{proxy+}', FUNCTIONS.admin],
      ['GET /console', FUNCTIONS.admin],
      ['HEAD /console', FUNCTIONS.admin],
      ['GET /console/{proxy+}', FUNCTIONS.admin],
      ['HEAD /console/{proxy+}', FUNCTIONS.admin],
      ['GET /v1/usage', FUNCTIONS.usage],
    ]) {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: routeKey,
        AuthorizationType: 'NONE',
        Target: { 'Fn::Join': ['', ['integrations/', { Ref: integrationFor(fnPrefix as string) }]] },
      });
    }
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', { IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
  });

  test('the $default stage deploys itself, writes access logs and throttles', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [resourceId(template, 'AWS::Logs::LogGroup', 'AdminApiAccessLogs'), 'Arn'] },
        Format: Match.stringLikeRegexp('"\\$context.requestId"'),
      },
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
    const format = (Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0] as CfnResource).Properties.AccessLogSettings as { Format: string };
    expect(format.Format).not.toMatch(/authorization|header/i); // credentials never reach the access log
  });
});

describe('observability', () => {
  const dashboardBody = (): string =>
    JSON.stringify((Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0] as CfnResource).Properties.DashboardBody);

  test('one dashboard with the requested widgets over the gateway metrics and the AWS ones', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const body = dashboardBody();
    for (const title of [
      'Requests',
      'Errors (5xx)',
      'Latency p50 / p99',
      'Tokens',
      'Cost by tenant (USD)',
      'Cache hit rate (%)',
      'Circuit breaker state',
      'Usage queue: oldest message age',
      'Usage DLQ depth',
      'Alarms',
    ]) {
      expect(body).toContain(`"title\\":\\"${title}`);
    }
    for (const name of [METRIC.requests, METRIC.duration, METRIC.tokens, METRIC.cost, METRIC.cacheHits, METRIC.cacheMisses, METRIC.breakerState])
      expect(body).toContain(name);
    expect(body).toContain('FROM AiGateway GROUP BY tenant');
    for (const builtIn of ['UrlRequestCount', 'Url5xxCount', 'ApproximateAgeOfOldestMessage', 'ApproximateNumberOfMessagesVisible', 'Throttles'])
      expect(body).toContain(builtIn);
  });

  test('alarms: chat 5xx rate, DLQ not empty, queue age, aggregator errors, throttles, store errors; each notifies the alert topic', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as CfnResource[];
    expect(alarms).toHaveLength(6);
    const topic = ref(template, 'AWS::SNS::Topic', 'CostPipelineAlertTopic');
    for (const a of alarms) expect(a.Properties.AlarmActions).toEqual([topic]);

    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 5,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(requests >= 20, 100 * errors / requests, 0)' }),
        Match.objectLike({ Id: 'errors', MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'Url5xxCount', Namespace: 'AWS/Lambda' }) }) }),
      ]),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [resourceId(template, 'AWS::SQS::Queue', 'CostPipelineUsageDeadLetterQueue'), 'QueueName'] } }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 900 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Threshold: 0,
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: resourceId(template, 'AWS::Lambda::Function', FUNCTIONS.aggregator) } }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 't_chat + t_admin + t_usage + t_aggregator' })]),
    });
  });

  test('store errors: alarm on the EMF counter summed over one minute, above 5, on the alert topic', () => {
    const alarm = (Object.values(template.findResources('AWS::CloudWatch::Alarm')) as CfnResource[]).find((a) =>
      JSON.stringify(a.Properties.Metrics ?? '').includes(METRIC.storeErrors),
    );
    expect(alarm?.Properties).toMatchObject({
      // One Metrics Insights query over every function, store and operation of the namespace.
      Metrics: [{ Id: expect.any(String), Expression: `SELECT SUM(${METRIC.storeErrors}) FROM AiGateway`, Period: 60, ReturnData: true }],
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [ref(template, 'AWS::SNS::Topic', 'CostPipelineAlertTopic')],
    });
    expect(alarm?.Properties.AlarmDescription).toMatch(/stores .* failed or timed out/);
  });

  test('dashboard: a widget with store errors by store and operation, and the degraded state by store, per minute', () => {
    const widgets = (
      JSON.parse(resolveJoin((Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0] as CfnResource).Properties.DashboardBody)) as {
        widgets: Array<{ properties: { title?: string; metrics?: unknown[][]; period?: number } }>;
      }
    ).widgets;
    const stores = widgets.find((w) => w.properties.title?.startsWith('Shared stores'));
    expect(stores?.properties.metrics).toEqual([
      [{ expression: `SELECT SUM(${METRIC.storeErrors}) FROM AiGateway GROUP BY store, operation`, label: 'errors', period: 60 }],
      [{ expression: `SELECT MAX(${METRIC.storeDegraded}) FROM AiGateway GROUP BY store`, label: 'degraded', period: 60, yAxis: 'right' }],
    ]);
  });
});

/** A dashboard body as CDK writes it ({"Fn::Join": ["", [...]]} around tokens), with the tokens left as text. */
function resolveJoin(body: unknown): string {
  if (typeof body === 'string') return body;
  const parts = (body as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  return parts.map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('');
}

test('outputs: endpoints, topic, secrets, tables and queues', () => {
  const urlId = resourceId(template, 'AWS::Lambda::Url', 'ChatApiChatFunction');
  const url = { 'Fn::GetAtt': [urlId, 'FunctionUrl'] };
  template.hasOutput('GatewayUrl', { Value: url });
  template.hasOutput('OpenAIBaseUrl', { Value: { 'Fn::Join': ['', [url, 'v1']] } });
  template.hasOutput('AdminApiUrl', {
    Value: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [resourceId(template, 'AWS::ApiGatewayV2::Api', 'AdminApiHttpApi'), 'ApiEndpoint'] }, '/']] },
  });
  template.hasOutput('ConsoleUrl', {
    Value: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [resourceId(template, 'AWS::ApiGatewayV2::Api', 'AdminApiHttpApi'), 'ApiEndpoint'] }, '/console/']] },
  });
  template.hasOutput('AlertTopicArn', { Value: ref(template, 'AWS::SNS::Topic', 'CostPipelineAlertTopic') });
  template.hasOutput('ProviderSecretArn', { Value: ref(template, 'AWS::SecretsManager::Secret', 'SecretsProviderKeys') });
  template.hasOutput('AdminSecretArn', { Value: ref(template, 'AWS::SecretsManager::Secret', 'SecretsAdminCredential') });
  template.hasOutput('TenantsTableName', { Value: ref(template, 'AWS::DynamoDB::Table', 'StorageTenantsTable') });
  template.hasOutput('StateTableName', { Value: ref(template, 'AWS::DynamoDB::Table', 'StorageStateTable') });
  template.hasOutput('UsageTableName', { Value: ref(template, 'AWS::DynamoDB::Table', 'StorageUsageTable') });
  template.hasOutput('UsageQueueUrl', { Value: ref(template, 'AWS::SQS::Queue', 'CostPipelineUsageQueue') });
});

describe('settings from context', () => {
  test('default provider, log level, retention and provider base URLs', () => {
    const { template: t } = synth({
      defaultProvider: 'openai',
      logLevel: 'DEBUG',
      logRetentionDays: '14',
      openaiBaseUrl: 'https://llm.example.com/v1',
      ollamaBaseUrl: 'http://10.0.0.5:11434',
    });
    expect(variables(fn(t, 'chat'))).toMatchObject({
      DEFAULT_PROVIDER: 'openai',
      LOG_LEVEL: 'debug',
      OPENAI_BASE_URL: 'https://llm.example.com/v1',
      OLLAMA_BASE_URL: 'http://10.0.0.5:11434',
    });
    expect(variables(fn(t, 'aggregator'))).toMatchObject({ LOG_LEVEL: 'debug' });
    expect(variables(fn(t, 'aggregator')).OPENAI_BASE_URL).toBeUndefined();
    for (const lg of Object.values(t.findResources('AWS::Logs::LogGroup')) as CfnResource[]) expect(lg.Properties.RetentionInDays).toBe(14);
  });

  test('the routing config reaches the chat function as GATEWAY_CONFIG_JSON, from cdk.json, -c text or a file', () => {
    const config = {
      routes: {
        smart: {
          targets: [
            { provider: 'openai', model: 'gpt-4o' },
            { provider: 'anthropic', model: 'claude-sonnet-4-5' },
          ],
        },
      },
      fallback_providers: ['openai', 'anthropic'],
    };
    const fromObject = variables(fn(synth({ gatewayConfig: config }).template, 'chat')).GATEWAY_CONFIG_JSON;
    expect(JSON.parse(fromObject as string)).toEqual(config);
    expect(variables(fn(synth({ gatewayConfig: JSON.stringify(config) }).template, 'chat')).GATEWAY_CONFIG_JSON).toBe(fromObject);
    const dir = mkdtempSync(join(tmpdir(), 'ai-gateway-config-'));
    try {
      writeFileSync(join(dir, 'routing.json'), JSON.stringify(config, null, 2));
      expect(variables(fn(synth({ gatewayConfigFile: join(dir, 'routing.json') }).template, 'chat')).GATEWAY_CONFIG_JSON).toBe(fromObject);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(variables(fn(template, 'chat')).GATEWAY_CONFIG_JSON).toBeUndefined();
  });

  test('the shipped example config synthesises with a named DEFAULT_PROVIDER; the admin function gets it too, no key from it', () => {
    const example = join(__dirname, '../../config/gateway.example.json');
    const t = synth({ gatewayConfigFile: example, defaultProvider: 'groq' }).template;
    const chat = variables(fn(t, 'chat'));
    expect(chat.DEFAULT_PROVIDER).toBe('groq');
    expect(variables(fn(t, 'admin')).GATEWAY_CONFIG_JSON).toBe(chat.GATEWAY_CONFIG_JSON);
    // Named providers' keys come from the provider secret's fields, never from a plain variable.
    for (const name of ['GROQ_API_KEY', 'AZURE_EAST_KEY', 'CLAUDE_B_KEY']) expect(chat[name]).toBeUndefined();
  });

  test('tenant defaults reach the admin function only', () => {
    const { template: t } = synth({ tenantDefaultRpm: '60', tenantDefaultTpm: '100000', tenantDefaultBudgetUsd: '25' });
    expect(variables(fn(t, 'admin'))).toMatchObject({ TENANT_DEFAULT_RPM: '60', TENANT_DEFAULT_TPM: '100000', TENANT_DEFAULT_BUDGET_USD: '25' });
    for (const name of ['chat', 'usage', 'aggregator'] as const) expect(variables(fn(t, name)).TENANT_DEFAULT_RPM).toBeUndefined();
    expect(variables(fn(template, 'admin')).TENANT_DEFAULT_BUDGET_USD).toBeUndefined();
  });

  test('bad settings fail the synth with the context key named', () => {
    expect(() => synth({ tenantDefaultBudgetUsd: 'lots' })).toThrow(/context tenantDefaultBudgetUsd must be a number/);
    expect(() => synth({ tenantDefaultRpm: '1.5' })).toThrow(/context tenantDefaultRpm must be a whole number/);
    expect(() => synth({ defaultProvider: 'nope' })).toThrow(/context defaultProvider must be one of/);
    expect(() => synth({ openaiBaseUrl: 'ftp://x' })).toThrow(/context openaiBaseUrl must use http or https/);
    expect(() => synth({ logLevel: 'loud' })).toThrow(/context logLevel must be one of/);
    expect(() => synth({ logRetentionDays: '31' })).toThrow(/logRetentionDays must be one of/);
    expect(() => synth({ gatewayConfig: '{"routes": ' })).toThrow(/context gatewayConfig is not valid JSON/);
    expect(() => synth({ gatewayConfig: { routes: { x: { targets: [{ provider: 'nope', model: 'm' }] } } } })).toThrow(
      /routes.x.targets\[0\].provider must be one of/,
    );
    expect(() =>
      synth({ gatewayConfig: { prices: Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`model-${i}`, { input_per_mtok: 1, output_per_mtok: 2 }])) } }),
    ).toThrow(/Lambda environments hold 4 KB/);
    expect(() => synth({ gatewayConfigFile: '/nonexistent/routing.json' })).toThrow(/gatewayConfigFile .* cannot read/);
    expect(() => synth({ redisUrl: 'redis://10.0.0.1:6379' })).toThrow(/redisUrl needs redisVpcId/);
    expect(() => synth({ redisVpcId: 'vpc-0abc' })).toThrow(/need redisUrl/);
    expect(() => synth({ ...REDIS, redisUrl: 'http://x' })).toThrow(/context redisUrl must use redis/);
    expect(() => synth({ ...REDIS, redisSubnetIds: 'subnet-0a,' })).toThrow(/redisSubnetIds must be a non-empty list/);
  });

  test('opt-in ElastiCache: only the chat function joins the given VPC subnets and groups, with REDIS_URL and the shared breaker', () => {
    const { template: t } = synth(REDIS);
    const chat = fn(t, 'chat');
    expect(chat.Properties.VpcConfig).toEqual({
      SubnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
      SecurityGroupIds: ['sg-0123456789abcdef0'],
    });
    expect(variables(chat)).toMatchObject({ REDIS_URL: 'rediss://cache.example.internal:6379', USE_DISTRIBUTED_CB: 'true' });
    for (const name of ['admin', 'usage', 'aggregator'] as const) {
      expect(fn(t, name).Properties.VpcConfig).toBeUndefined();
      expect(variables(fn(t, name)).REDIS_URL).toBeUndefined();
    }
    t.resourceCountIs('AWS::EC2::SecurityGroup', 0); // existing groups only, nothing built
    t.resourceCountIs('AWS::EC2::VPC', 0);
  });
});
