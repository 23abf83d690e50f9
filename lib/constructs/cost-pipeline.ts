// Usage accounting off the request path: the chat function sends one usage event per request to
// SQS; the aggregator applies them to the usage table (idempotent by request id, since SQS
// delivers at least once) and publishes budget alerts to SNS. Messages that keep failing land in
// a dead-letter queue instead of blocking the rest.
import { CfnCondition, CfnParameter, Duration, Fn } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnSubscription, SubscriptionProtocol, Topic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { EMAIL_PATTERN } from '../settings';
import { GatewayFunction } from './gateway-function';

/** Deliveries before a message moves to the DLQ: enough for throttling and brief outages. */
const MAX_RECEIVE_COUNT = 5;
/** Events per aggregator invocation, and how long SQS may wait to fill a batch. */
const BATCH_SIZE = 100;
const MAX_BATCHING_WINDOW = Duration.seconds(5);
const AGGREGATOR_TIMEOUT = Duration.seconds(30);

export interface CostPipelineProps {
  usageTable: Table;
  retention: RetentionDays;
  /** Default of the AlertEmail parameter (context alertEmail). */
  alertEmail: string;
  commonEnvironment: Record<string, string>;
}

export class CostPipeline extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly topic: Topic;
  readonly aggregator: GatewayFunction;
  readonly alertEmail: CfnParameter;

  constructor(scope: Construct, id: string, props: CostPipelineProps) {
    super(scope, id);

    this.deadLetterQueue = new Queue(this, 'UsageDeadLetterQueue', {
      // The maximum: two weeks to notice (the DLQ alarm), fix and redrive.
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.queue = new Queue(this, 'UsageQueue', {
      // SQS-managed keys: encrypted at rest with no KMS permissions or key costs for producers.
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS's guidance for Lambda event sources: at least six times the function timeout, so a
      // batch being retried by the poller is not handed out again while still in flight.
      visibilityTimeout: Duration.seconds(AGGREGATOR_TIMEOUT.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });

    // Budget alerts (and the stack's alarms). Not KMS-encrypted: CloudWatch alarms cannot publish
    // to a topic under the AWS managed SNS key, and the messages carry tenant ids and amounts, no
    // keys or prompts. Publishing is refused unless over TLS.
    this.topic = new Topic(this, 'AlertTopic', { displayName: 'AI gateway alerts', enforceSSL: true });

    // A stack parameter, so the address can be set or changed at deploy time without touching
    // cdk.json: `cdk deploy --parameters AlertEmail=ops@example.com`. Empty: no subscription.
    this.alertEmail = new CfnParameter(this, 'AlertEmail', {
      type: 'String',
      default: props.alertEmail,
      allowedPattern: EMAIL_PATTERN,
      constraintDescription: 'an e-mail address, or empty for no subscription',
      description: 'E-mail address for budget alerts and alarms (AWS sends a confirmation link). Empty: no subscription.',
    });
    // Node id under the stack, so the parameter is called AlertEmail in the template and CLI.
    this.alertEmail.overrideLogicalId('AlertEmail');
    const hasEmail = new CfnCondition(this, 'HasAlertEmail', { expression: Fn.conditionNot(Fn.conditionEquals(this.alertEmail.valueAsString, '')) });
    // The L1 subscription: the L2 EmailSubscription cannot carry a condition.
    const subscription = new CfnSubscription(this, 'AlertEmailSubscription', {
      topicArn: this.topic.topicArn,
      protocol: SubscriptionProtocol.EMAIL,
      endpoint: this.alertEmail.valueAsString,
    });
    subscription.cfnOptions.condition = hasEmail;

    this.aggregator = new GatewayFunction(this, 'Aggregator', {
      description: 'AI gateway: applies usage events to the usage table and sends budget alerts',
      entry: 'functions/usage/aggregator-lambda.ts',
      // A batch is a few dozen small DynamoDB updates; 256 MB leaves ample headroom.
      memorySize: 256,
      timeout: AGGREGATOR_TIMEOUT,
      retention: props.retention,
      environment: {
        ...props.commonEnvironment,
        USAGE_TABLE: props.usageTable.tableName,
        ALERT_TOPIC_ARN: this.topic.topicArn,
      },
      extraExternalModules: ['ioredis'],
    });
    const fn = this.aggregator.fn;
    props.usageTable.grantReadWriteData(fn);
    // sns:Publish on this topic only (the topic is not KMS-encrypted, so no key grant is needed).
    fn.addToRolePolicy(new PolicyStatement({ actions: ['sns:Publish'], resources: [this.topic.topicArn] }));
    // Grants the consume permissions on this queue only (Receive, Delete, ChangeVisibility, GetAttributes).
    fn.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: BATCH_SIZE,
        maxBatchingWindow: MAX_BATCHING_WINDOW,
        // Failed events are retried alone; the ones that succeeded are deleted, not re-applied.
        reportBatchItemFailures: true,
      }),
    );
  }
}
