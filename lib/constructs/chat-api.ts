// The OpenAI-compatible endpoint: the chat function behind a Lambda function URL that streams
// its response (SSE chunks reach the client as they are written). Stays out of any VPC unless the
// opt-in ElastiCache backend is configured: function-URL streaming and cold starts both suffer there.
import { Aws, Duration, Stack } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { SecurityGroup, Subnet, Vpc } from 'aws-cdk-lib/aws-ec2';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { FunctionUrlAuthType, InvokeMode, type FunctionUrl } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from '../nag';
import type { RedisSettings } from '../settings';
import { GatewayFunction, type GatewayFunctionProps } from './gateway-function';
import { otelExporterBuild } from './otel-bundle';

export interface ChatApiProps {
  tenants: Table;
  state: Table;
  usage: Table;
  usageQueue: Queue;
  providerSecret: ISecret;
  retention: RetentionDays;
  /** Validated literal variables (common + chat-only). */
  environment: Record<string, string>;
  redis?: RedisSettings;
  /** The URL takes only requests signed with IAM credentials: the CloudFront edge's (context edge=cloudfront). */
  iamAuth?: boolean;
}

export class ChatApi extends Construct {
  readonly function: GatewayFunction;
  readonly url: FunctionUrl;

  constructor(scope: Construct, id: string, props: ChatApiProps) {
    super(scope, id);

    this.function = new GatewayFunction(this, 'Chat', {
      description: 'AI gateway: OpenAI-compatible chat completions, embeddings, models and health (streaming function URL)',
      entry: 'functions/chat/handler.ts',
      // The work is mostly waiting on providers, but Lambda allots CPU in proportion to memory, and
      // CPU sets cold-start time and the per-chunk SSE work; 1024 MB also leaves room for the
      // in-memory response cache (64 MiB by default).
      memorySize: 1024,
      // A streamed completion lasts as long as the model generates (minutes for long or reasoning
      // answers); 15 minutes is the Lambda and function URL maximum. Silent providers are still
      // cut off after UPSTREAM_TIMEOUT by the gateway itself.
      timeout: Duration.minutes(15),
      retention: props.retention,
      environment: {
        ...props.environment,
        // The documented local key must never open a deployed gateway: tenants and their keys
        // come from the tenant store.
        DEFAULT_TENANT_ENABLED: 'false',
        TENANTS_TABLE: props.tenants.tableName,
        STATE_TABLE: props.state.tableName,
        USAGE_TABLE: props.usage.tableName,
        USAGE_QUEUE_URL: props.usageQueue.queueUrl,
        PROVIDER_SECRET_ARN: props.providerSecret.secretArn,
      },
      // ioredis serves only the opt-in Redis backend; left out of the bundle otherwise, it keeps
      // the cold start small.
      extraExternalModules: props.redis ? [] : ['ioredis'],
      // The OTLP exporter beside the bundle, loaded only when OTLP_ENDPOINT is set.
      afterBundling: otelExporterBuild,
      network: props.redis ? this.network(props.redis) : undefined,
    });
    const fn = this.function.fn;

    // Tenants: read only (key lookups). Explicit, because grantReadData would add Scan: the chat
    // function has no reason to list every tenant.
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'],
        resources: [props.tenants.tableArn],
      }),
    );
    // State: rate-limit windows, cached answers and breaker states are read and written per request.
    props.state.grantReadWriteData(fn);
    // Usage: budget reservations and, when the queue cannot be reached, usage applied directly.
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
        resources: [props.usage.tableArn],
      }),
    );
    // Sending only: grantSendMessages would add GetQueueAttributes/GetQueueUrl, which it never calls.
    fn.addToRolePolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [props.usageQueue.queueArn] }));
    // GetSecretValue on the provider secret only (grantRead would add DescribeSecret).
    fn.addToRolePolicy(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [props.providerSecret.secretArn] }));
    // Bedrock: which model is called is decided per request by the routing config, so any
    // foundation model or inference profile in this stack's region.
    const region = `arn:${Aws.PARTITION}:bedrock:${Aws.REGION}`;
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
        resources: [`${region}::foundation-model/*`, `${region}:${Aws.ACCOUNT_ID}:inference-profile/*`],
      }),
    );
    const bedrockReason =
      'The model is chosen per request by the routing config and the client (any Bedrock model the account has enabled), ' +
      'so the resource is every model in this region; the actions are only the two invoke calls.';
    acknowledge(this.function.role, 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:<AWS::Region>::foundation-model/*]', bedrockReason);
    acknowledge(
      this.function.role,
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:<AWS::Region>:<AWS::AccountId>:inference-profile/*]',
      bedrockReason,
    );

    // Auth NONE by default: the function URL is the public OpenAI-compatible endpoint, and every
    // request is authenticated by the gateway itself with tenant keys (Authorization: Bearer); IAM
    // auth would require SigV4, which the OpenAI SDKs cannot send. Behind the CloudFront edge,
    // CloudFront signs for them and the URL answers nobody else.
    this.url = fn.addFunctionUrl({
      authType: props.iamAuth ? FunctionUrlAuthType.AWS_IAM : FunctionUrlAuthType.NONE,
      invokeMode: InvokeMode.RESPONSE_STREAM,
    });
  }

  /** Existing VPC, subnets and security groups by id: no lookups, so synth stays offline. */
  private network(redis: RedisSettings): NonNullable<GatewayFunctionProps['network']> {
    const vpc = Vpc.fromVpcAttributes(this, 'RedisVpc', { vpcId: redis.vpcId, availabilityZones: Stack.of(this).availabilityZones });
    return {
      vpc,
      vpcSubnets: { subnets: redis.subnetIds.map((id, i) => Subnet.fromSubnetId(this, `RedisSubnet${i}`, id)) },
      securityGroups: redis.securityGroupIds.map((id, i) => SecurityGroup.fromSecurityGroupId(this, `RedisSecurityGroup${i}`, id)),
    };
  }
}
