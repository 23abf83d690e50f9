// Shared by the infra tests: synthesize the stack as bin/ai-gateway.ts builds it (settings from
// context), without bundling, plus small readers for the template.
import fs from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AiGatewayStack, type AiGatewayStackProps } from '../../lib/ai-gateway-stack';
import { PROJECT_ROOT } from '../../lib/constructs/gateway-function';
import { settingsFromContext } from '../../lib/settings';

export const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] as string[] };

/** The Lambda entry points the stack bundles. */
export const ENTRIES = [
  'functions/chat/handler.ts',
  'functions/admin/lambda.ts',
  'functions/usage/api-lambda.ts',
  'functions/usage/aggregator-lambda.ts',
] as const;

export function missingEntries(): string[] {
  return ENTRIES.filter((e) => !fs.existsSync(join(PROJECT_ROOT, e)));
}

export interface Synth {
  app: App;
  stack: AiGatewayStack;
  template: Template;
}

/** Synthesizes without bundling; context as `-c` would give it (strings) or as cdk.json (any JSON). */
export function synth(context: Record<string, unknown> = {}, extra: Partial<AiGatewayStackProps> = {}): Synth {
  const app = new App({ context: { ...NO_BUNDLING, ...context } });
  const stack = new AiGatewayStack(app, 'AiGateway', { ...settingsFromContext(app.node), ...extra });
  return { app, stack, template: Template.fromStack(stack) };
}

/** Context for the opt-in ElastiCache backend, with well-formed ids. */
export const REDIS = {
  redisUrl: 'rediss://cache.example.internal:6379',
  redisVpcId: 'vpc-0123456789abcdef0',
  redisSubnetIds: 'subnet-0123456789abcdef0,subnet-0fedcba9876543210',
  redisSecurityGroupIds: '["sg-0123456789abcdef0"]',
};

export interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
  Condition?: string;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** The one resource of a type whose logical id starts with a prefix (construct path, e.g. "ChatApiChat"). */
export function resourceId(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one ${type} starting with ${prefix}, found ${ids.join(', ') || 'none'}`);
  return ids[0] as string;
}

/** Every statement of the inline policies attached to a role (by the role's logical id prefix). */
export function roleStatements(template: Template, rolePrefix: string): Statement[] {
  const roleId = resourceId(template, 'AWS::IAM::Role', rolePrefix);
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as CfnResource[];
  return policies
    .filter((p) => (p.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })))
    .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

export const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/** Statements of a role that name a resource (by its logical id) anywhere in Resource. */
export function statementsOn(statements: Statement[], logicalId: string): Statement[] {
  return statements.filter((s) => JSON.stringify(s.Resource).includes(`"${logicalId}"`));
}

/** All actions a role is allowed on a resource. */
export function actionsOn(statements: Statement[], logicalId: string): string[] {
  return [
    ...new Set(
      statementsOn(statements, logicalId)
        .filter((s) => s.Effect === 'Allow')
        .flatMap(actionsOf),
    ),
  ].sort();
}
