// cdk-nag AwsSolutions checks on the stack: zero unacknowledged findings, by default and with
// every option on; every acknowledgement is a single finding id with a reason.
import { Validations } from 'aws-cdk-lib';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { REDIS, synth, type Synth } from './synth';

let plain: Synth;
beforeAll(() => {
  plain = synth();
});

function findings({ app, stack }: Synth): string[] {
  const report = new AwsSolutionsChecks(app).validateScope(stack);
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.resourceLogicalId} ${r.templatePath}: ${v.description}`));
}

/** Acknowledgements as CDK records them: metadata entries { "Annotation::<id>": reason } per construct. */
function acknowledgements(root: IConstruct): Array<{ id: string; reason: string; path: string }> {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>))
      .map(([key, reason]) => ({ id: key.replace(/^Annotation::/, ''), reason, path: c.node.path })),
  );
}

test('default stack: no unacknowledged AwsSolutions findings', () => {
  expect(findings(plain)).toEqual([]);
});

test('with alert e-mail, routing config and the ElastiCache option: still none; the checks are live', () => {
  const options = synth({
    alertEmail: 'ops@example.com',
    gatewayConfig: { routes: { smart: { targets: [{ provider: 'openai', model: 'gpt-4o' }] } } },
    ...REDIS,
  });
  expect(findings(options)).toEqual([]);
  // A control: a bare queue added to the same stack is reported (no DLQ, no TLS-only policy),
  // and is all that is reported.
  new Queue(options.stack, 'UnacknowledgedProbe');
  expect(
    findings(options)
      .map((f) => f.split(' ')[0])
      .sort(),
  ).toEqual(['AwsSolutions-SQS3', 'AwsSolutions-SQS4']);
});

test('acknowledgements: exact finding ids, each with a reason, none of them blanket', () => {
  const acks = acknowledgements(plain.stack);
  // Listed so that a new suppression is a visible change to this test.
  const summary = [...new Set(acks.map((a) => `${a.path.replace(/^AiGateway\//, '')} ${a.id}`))].sort();
  expect(summary).toEqual(
    [
      'AdminApi/Admin/Role AwsSolutions-IAM5[Resource::*]',
      'AdminApi/HttpApi/GET--v1--usage AwsSolutions-APIG4',
      'AdminApi/HttpApi/HEAD--console AwsSolutions-APIG4',
      'AdminApi/HttpApi/HEAD--console--{proxy+} AwsSolutions-APIG4',
      'AdminApi/HttpApi/ANY--admin--{proxy+} AwsSolutions-APIG4',
      'AdminApi/HttpApi/GET--console AwsSolutions-APIG4',
      'AdminApi/HttpApi/GET--console--{proxy+} AwsSolutions-APIG4',
      'AdminApi/Usage/Role AwsSolutions-IAM5[Resource::*]',
      'ChatApi/Chat/Role AwsSolutions-IAM5[Resource::*]',
      'ChatApi/Chat/Role AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:<AWS::Region>:<AWS::AccountId>:inference-profile/*]',
      'ChatApi/Chat/Role AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:<AWS::Region>::foundation-model/*]',
      'CostPipeline/Aggregator/Role AwsSolutions-IAM5[Resource::*]',
      'Secrets/AdminCredential AwsSolutions-SMG4',
      'Secrets/ProviderKeys AwsSolutions-SMG4',
    ].sort(),
  );
  for (const a of acks) {
    expect(a.id).toMatch(/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
    expect(a.reason.length).toBeGreaterThan(60);
  }
});
