// Least privilege, per function, read from the synthesized policies: which actions each role has
// on each resource, and that nothing reaches what it must not (the chat function cannot write
// tenants, the admin function cannot read provider keys, the aggregator publishes to its topic only).
import type { Template } from 'aws-cdk-lib/assertions';
import { REDIS, actionsOf, actionsOn, resourceId, roleStatements, statementsOn, synth, type Statement } from './synth';

let template: Template;
let ids: Record<'tenants' | 'state' | 'usage' | 'queue' | 'dlq' | 'topic' | 'providerSecret' | 'adminSecret', string>;
const roles = { chat: 'ChatApiChatRole', admin: 'AdminApiAdminRole', usage: 'AdminApiUsageRole', aggregator: 'CostPipelineAggregatorRole' } as const;
let statements: Record<keyof typeof roles, Statement[]>;

beforeAll(() => {
  template = synth().template;
  ids = {
    tenants: resourceId(template, 'AWS::DynamoDB::Table', 'StorageTenantsTable'),
    state: resourceId(template, 'AWS::DynamoDB::Table', 'StorageStateTable'),
    usage: resourceId(template, 'AWS::DynamoDB::Table', 'StorageUsageTable'),
    queue: resourceId(template, 'AWS::SQS::Queue', 'CostPipelineUsageQueue'),
    dlq: resourceId(template, 'AWS::SQS::Queue', 'CostPipelineUsageDeadLetterQueue'),
    topic: resourceId(template, 'AWS::SNS::Topic', 'CostPipelineAlertTopic'),
    providerSecret: resourceId(template, 'AWS::SecretsManager::Secret', 'SecretsProviderKeys'),
    adminSecret: resourceId(template, 'AWS::SecretsManager::Secret', 'SecretsAdminCredential'),
  };
  statements = Object.fromEntries(Object.entries(roles).map(([name, prefix]) => [name, roleStatements(template, prefix)])) as typeof statements;
});

const WRITES = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
const READS = ['dynamodb:GetItem', 'dynamodb:Query'];

test('chat: tenants read only, state and usage read/write, send to the usage queue, the provider secret, Bedrock invoke', () => {
  const s = statements.chat;
  expect(actionsOn(s, ids.tenants)).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query']);
  expect(actionsOn(s, ids.state)).toEqual(expect.arrayContaining([...READS, 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']));
  expect(actionsOn(s, ids.usage)).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
  expect(actionsOn(s, ids.queue)).toEqual(['sqs:SendMessage']);
  expect(actionsOn(s, ids.providerSecret)).toEqual(['secretsmanager:GetSecretValue']);
  expect(statementsOn(s, ids.adminSecret)).toEqual([]);
  expect(statementsOn(s, ids.topic)).toEqual([]);

  const bedrock = s.filter((st) => actionsOf(st).some((a) => a.startsWith('bedrock:')));
  expect(bedrock).toHaveLength(1);
  expect(actionsOf(bedrock[0] as Statement).sort()).toEqual(['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream']);
  const arn = (tail: unknown[]): unknown => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':bedrock:', { Ref: 'AWS::Region' }, ...tail]] });
  expect(bedrock[0]?.Resource).toEqual([arn(['::foundation-model/*']), arn([':', { Ref: 'AWS::AccountId' }, ':inference-profile/*'])]);
});

test('admin: tenants read/write, usage read only, failed-login counters and provider state in the state table, the admin secret and never the provider secret', () => {
  const s = statements.admin;
  expect(actionsOn(s, ids.tenants)).toEqual(expect.arrayContaining([...READS, 'dynamodb:Scan', ...WRITES]));
  const usage = actionsOn(s, ids.usage);
  expect(usage).toEqual(expect.arrayContaining(READS));
  expect(usage.filter((a) => WRITES.includes(a))).toEqual([]);
  expect(actionsOn(s, ids.adminSecret)).toEqual(['secretsmanager:GetSecretValue']);
  expect(statementsOn(s, ids.providerSecret)).toEqual([]);
  // Nor through a wildcard: no secretsmanager action on anything but the admin secret.
  for (const st of s.filter((x) => actionsOf(x).some((a) => a.startsWith('secretsmanager:')))) expect(st.Resource).toEqual({ Ref: ids.adminSecret });
  // Failed-login counters (GetItem, UpdateItem); the breaker and cooldown partitions for the provider list (Query).
  expect(actionsOn(s, ids.state).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
  for (const other of [ids.queue, ids.topic]) expect(statementsOn(s, other)).toEqual([]);
});

test('usage API: tenants and usage read only, nothing else', () => {
  const s = statements.usage;
  expect(actionsOn(s, ids.tenants)).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query']);
  const usage = actionsOn(s, ids.usage);
  expect(usage).toEqual(expect.arrayContaining(READS));
  expect(usage.filter((a) => WRITES.includes(a))).toEqual([]);
  for (const other of [ids.state, ids.queue, ids.topic, ids.providerSecret, ids.adminSecret]) expect(statementsOn(s, other)).toEqual([]);
});

test('aggregator: usage read/write, consume the usage queue, publish to the alert topic only', () => {
  const s = statements.aggregator;
  expect(actionsOn(s, ids.usage)).toEqual(expect.arrayContaining([...READS, 'dynamodb:PutItem', 'dynamodb:UpdateItem']));
  expect(actionsOn(s, ids.queue)).toEqual([
    'sqs:ChangeMessageVisibility',
    'sqs:DeleteMessage',
    'sqs:GetQueueAttributes',
    'sqs:GetQueueUrl',
    'sqs:ReceiveMessage',
  ]);
  const publish = s.filter((st) => actionsOf(st).some((a) => a.startsWith('sns:')));
  expect(publish).toEqual([{ Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: ids.topic } }]);
  for (const other of [ids.tenants, ids.state, ids.dlq, ids.providerSecret, ids.adminSecret]) expect(statementsOn(s, other)).toEqual([]);
});

test('every role writes only to its own log group, and "*" appears only for X-Ray', () => {
  for (const [name, prefix] of Object.entries(roles) as Array<[keyof typeof roles, string]>) {
    const s = statements[name];
    const logGroup = resourceId(template, 'AWS::Logs::LogGroup', prefix.replace(/Role$/, 'Logs'));
    const logs = s.filter((st) => actionsOf(st).some((a) => a.startsWith('logs:')));
    expect(logs).toEqual([{ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [logGroup, 'Arn'] } }]);
    const wildcard = s.filter((st) => JSON.stringify(st.Resource) === '"*"');
    expect(wildcard.flatMap(actionsOf).sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
  }
});

test('with the ElastiCache option the chat role may also manage its VPC network interfaces, and only the chat role', () => {
  const t = synth(REDIS).template;
  const ec2 = (prefix: string): string[] =>
    roleStatements(t, prefix)
      .flatMap(actionsOf)
      .filter((a) => a.startsWith('ec2:'));
  expect(ec2(roles.chat)).toEqual(expect.arrayContaining(['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:DescribeNetworkInterfaces']));
  for (const other of [roles.admin, roles.usage, roles.aggregator]) expect(ec2(other)).toEqual([]);
});
