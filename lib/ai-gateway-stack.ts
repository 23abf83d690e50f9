// lib — the CDK side: the stack (this file), its constructs (constructs/), the settings read from CDK
// context (settings.ts) and the one way to acknowledge a cdk-nag finding (nag.ts). Nothing here runs
// in a function: the functions' code is under functions/, and bin/ai-gateway.ts is the CDK app.
//
// The gateway's AWS stack, composed of small constructs: storage (DynamoDB), secrets, the cost
// pipeline (SQS → aggregator → usage table, SNS alerts), the streaming chat endpoint, the admin
// and usage HTTP API, and observability (dashboard, alarms).
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AdminApi } from './constructs/admin-api';
import { ChatApi } from './constructs/chat-api';
import { CostPipeline } from './constructs/cost-pipeline';
import { Edge } from './constructs/edge';
import { Observability } from './constructs/observability';
import { Secrets } from './constructs/secrets';
import { Storage } from './constructs/storage';
import { resolveSettings, type GatewaySettings } from './settings';

export type AiGatewayStackProps = StackProps & GatewaySettings;

export class AiGatewayStack extends Stack {
  readonly storage: Storage;
  readonly secrets: Secrets;
  readonly costPipeline: CostPipeline;
  readonly chat: ChatApi;
  readonly adminApi: AdminApi;
  readonly observability: Observability;
  /** CloudFront in front of the chat function URL (context edge=cloudfront). */
  readonly edge?: Edge;

  constructor(scope: Construct, id: string, props: AiGatewayStackProps = {}) {
    super(scope, id, props);
    // Validated before any resource exists: a bad setting fails the synth with its name.
    const settings = resolveSettings(props);

    this.storage = new Storage(this, 'Storage');
    this.secrets = new Secrets(this, 'Secrets');
    this.costPipeline = new CostPipeline(this, 'CostPipeline', {
      usageTable: this.storage.usage,
      retention: settings.retention,
      alertEmail: settings.alertEmail,
      commonEnvironment: settings.common,
    });
    this.chat = new ChatApi(this, 'ChatApi', {
      tenants: this.storage.tenants,
      state: this.storage.state,
      usage: this.storage.usage,
      usageQueue: this.costPipeline.queue,
      providerSecret: this.secrets.providerKeys,
      retention: settings.retention,
      environment: { ...settings.common, ...settings.chat },
      redis: settings.redis,
      iamAuth: props.edge?.cloudfront !== undefined,
    });
    if (props.edge?.cloudfront) this.edge = new Edge(this, 'Edge', { functionUrl: this.chat.url, settings: props.edge.cloudfront });
    this.adminApi = new AdminApi(this, 'AdminApi', {
      tenants: this.storage.tenants,
      usage: this.storage.usage,
      state: this.storage.state,
      adminSecret: this.secrets.admin,
      retention: settings.retention,
      commonEnvironment: settings.common,
      adminEnvironment: settings.admin,
      allowedIps: props.edge?.adminAllowedIps,
    });
    this.observability = new Observability(this, 'Observability', {
      chat: this.chat.function.fn,
      admin: this.adminApi.admin.fn,
      usageApi: this.adminApi.usage.fn,
      aggregator: this.costPipeline.aggregator.fn,
      usageQueue: this.costPipeline.queue,
      deadLetterQueue: this.costPipeline.deadLetterQueue,
      alertTopic: this.costPipeline.topic,
    });

    const output = (name: string, value: string, description: string): void => {
      new CfnOutput(this, name, { value, description });
    };
    // Behind the edge the function URL answers only CloudFront, so the edge is the endpoint.
    const url = this.edge?.url ?? this.chat.url.url;
    output('GatewayUrl', url, 'Gateway endpoint (GET <url>health, POST <url>v1/chat/completions)');
    // The function URL ends with "/", so this is the OpenAI SDK's baseURL as is.
    output('OpenAIBaseUrl', `${url}v1`, 'baseURL for the OpenAI SDKs');
    output('AdminApiUrl', this.adminApi.url, 'Admin API (<url>admin/tenants, Basic auth) and usage API (<url>v1/usage, tenant key)');
    output('ConsoleUrl', this.adminApi.consoleUrl, 'Web console (sign in with an admin user)');
    output('AlertTopicArn', this.costPipeline.topic.topicArn, 'SNS topic of budget alerts and alarms');
    output('ProviderSecretArn', this.secrets.providerKeys.secretArn, 'Secret to put the provider API keys in (JSON)');
    output('AdminSecretArn', this.secrets.admin.secretArn, 'Generated first admin credential (JSON username/password)');
    output('TenantsTableName', this.storage.tenants.tableName, 'DynamoDB table of tenants, keys, admin users and audit trail');
    output('StateTableName', this.storage.state.tableName, 'DynamoDB table of rate-limit windows, cached answers and breaker states');
    output('UsageTableName', this.storage.usage.tableName, 'DynamoDB table of aggregated usage and budget alerts');
    output('UsageQueueUrl', this.costPipeline.queue.queueUrl, 'SQS queue of usage events');
    output('UsageDeadLetterQueueUrl', this.costPipeline.deadLetterQueue.queueUrl, 'Dead-letter queue of usage events that kept failing');
    output('DashboardName', this.observability.dashboard.dashboardName, 'CloudWatch dashboard');
    if (this.edge) {
      output('EdgeDistributionId', this.edge.distribution.distributionId, 'CloudFront distribution in front of the chat function');
      output('ChatFunctionUrl', this.chat.url.url, 'The chat function URL itself: IAM auth, answers only the CloudFront distribution');
    }
  }
}
