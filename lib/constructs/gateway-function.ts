// lib/constructs — one construct per part of the stack (storage, secrets, cost pipeline, chat API,
// admin and usage API, observability), each granting its functions only what they use. Every
// function is a GatewayFunction (this file); the stack (../ai-gateway-stack.ts) composes the parts.
//
// One gateway Lambda function as every function of the stack needs it: Node.js 22 on arm64,
// bundled by the local esbuild as minified CommonJS with a source map (behind a small loader), its own log group with the
// configured retention, active X-Ray tracing, and its own role that can write only to that
// log group (no AWS managed policy: AWSLambdaBasicExecutionRole may write to any log group).
import { join } from 'node:path';
import type { Duration } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { FunctionOptions } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { acknowledge } from '../nag';

export const PROJECT_ROOT = join(__dirname, '..', '..');

/** The bundle's file name once the loader takes the handler's place (index.js). */
const BUNDLE_FILE = 'gateway.js';

/**
 * The Node.js runtime loads the handler file with import(), and for a CommonJS file Node then
 * scans all of its source for export names (about 50 ms for a 300 KB bundle on a slow core). So
 * index.js is a three-line loader that require()s the bundle, which is then loaded without that
 * scan. The source map keeps its name (index.js.map): the bundle's sourceMappingURL points to it.
 */
const bundleBehindLoader = (extra: (inputDir: string, outputDir: string) => string[]) => ({
  beforeBundling: (): string[] => [],
  beforeInstall: (): string[] => [],
  afterBundling: (inputDir: string, outputDir: string): string[] => [
    `mv "${outputDir}/index.js" "${outputDir}/${BUNDLE_FILE}"`,
    `printf '%s\n' '"use strict";' 'const gateway = require("./${BUNDLE_FILE}");' 'exports.handler = gateway.handler;' > "${outputDir}/index.js"`,
    ...extra(inputDir, outputDir),
  ],
});

export interface GatewayFunctionProps {
  description: string;
  /** Entry file, relative to the project root (e.g. functions/chat/handler.ts). */
  entry: string;
  memorySize: number;
  timeout: Duration;
  retention: RetentionDays;
  environment: Record<string, string>;
  /** Packages left out of the bundle in addition to the AWS SDK (e.g. ioredis when unused). */
  extraExternalModules?: string[];
  /** Commands run once the bundle is built (`inputDir`: the project root), e.g. to add another file to the asset. */
  afterBundling?: (inputDir: string, outputDir: string) => string[];
  /** VPC placement, only for the opt-in ElastiCache backend. */
  network?: Pick<FunctionOptions, 'vpc' | 'vpcSubnets' | 'securityGroups'>;
}

export class GatewayFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: GatewayFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', { retention: props.retention });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${id}`,
    });
    this.logGroup.grantWrite(this.role);

    this.fn = new NodejsFunction(this, 'Function', {
      description: props.description,
      entry: join(PROJECT_ROOT, props.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      // Graviton: ~20% cheaper per GB-second, and the bundles are plain JS with no native modules.
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      tracing: Tracing.ACTIVE,
      environment: props.environment,
      ...props.network,
      bundling: {
        // Local esbuild (a devDependency) only: Docker bundling is never attempted.
        forceDockerBundling: false,
        // CommonJS: a single-file ESM bundle hoists every AWS SDK import its lazily loaded modules
        // make to the top, loading Bedrock, SNS and the rest at cold start; CommonJS keeps each
        // require where the module is first used (about half the cold init, see npm run bench).
        format: OutputFormat.CJS,
        target: 'node22',
        minify: true,
        sourceMap: true,
        // Linked (a separate .map plus a sourceMappingURL comment): EXTERNAL drops the comment, and
        // Node's --enable-source-maps then finds no map.
        sourceMapMode: SourceMapMode.DEFAULT,
        // Stack traces still map to file:line without embedding every source in the map.
        sourcesContent: false,
        // The AWS SDK and its @smithy building blocks come with the Node.js runtime: taking both
        // from there keeps the bundles small and their versions consistent with each other.
        externalModules: ['@aws-sdk/*', '@smithy/*', ...(props.extraExternalModules ?? [])],
        // esbuild's per-file size summary is noise in synth and test output; warnings still show.
        logLevel: LogLevel.WARNING,
        commandHooks: bundleBehindLoader(props.afterBundling ?? (() => [])),
      },
    });

    acknowledge(
      this.fn,
      'AwsSolutions-L1',
      'Node.js 22 is the newest runtime the code is built for and tested on (bundles target node22; the test toolchain runs Node 20 and 22). ' +
        'Moving to 24 is a deliberate upgrade after the suite passes on it, not a side effect of a CDK release.',
    );
    if (props.network?.vpc) {
      // Lambda creates and removes the function's network interfaces in the VPC with the role's
      // permissions. Written out rather than AWSLambdaVPCAccessExecutionRole, which would also
      // allow writing to every log group of the account.
      this.role.addToPolicy(
        new PolicyStatement({
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      );
    }
    acknowledge(
      this.role,
      'AwsSolutions-IAM5[Resource::*]',
      'X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) support no resource-level permissions' +
        (props.network?.vpc ? ', nor do the EC2 network-interface actions Lambda needs in a VPC (opt-in ElastiCache backend only)' : '') +
        '; every other statement of this role names its resources.',
    );
  }
}
