// lib/constructs — one construct per part of the stack (storage, secrets, cost pipeline, chat API,
// admin and usage API, observability), each granting its functions only what they use. Every
// function is a GatewayFunction (this file); the stack (../ai-gateway-stack.ts) composes the parts.
//
// One gateway Lambda function as every function of the stack needs it: Node.js 24 on arm64,
// bundled by the local esbuild as minified CommonJS with a source map (behind a small loader),
// holding everything it needs but the AWS SDK the runtime provides; its own log group with the
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
export const BUNDLE_FILE = 'gateway.js';

/** index.js: loads the bundle and hands its handler to the runtime. */
export const BUNDLE_LOADER = `"use strict";\nconst gateway = require("./${BUNDLE_FILE}");\nexports.handler = gateway.handler;\n`;

/** The esbuild target: the functions' runtime (Runtime.NODEJS_24_X below). */
export const BUNDLE_TARGET = 'node24';

/**
 * import() of a package the bundle leaves out becomes require(): the runtime's packages are found
 * through NODE_PATH (/var/runtime/node_modules), which only require() follows, and Node's ES
 * module loader would also scan each CommonJS package's source for its export names.
 */
export const BUNDLE_SUPPORTED = { 'dynamic-import': false };

/**
 * What the Lambda Node.js runtime provides beside the function's code: the AWS SDK for JavaScript
 * v3, its `@aws-sdk/*` packages (with their own dependencies, which may be other versions than
 * this project's). Everything else, @smithy/* included, is bundled: the runtime does not promise
 * it, and a package such as the X-Ray SDK depends on @smithy versions the runtime's SDK may not hold.
 */
export const RUNTIME_PROVIDED_MODULES = ['@aws-sdk/*'];

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
      // The newest Lambda runtime; CI runs the suite on Node 20, 22 and 24, and the runtime-client
      // tests run the bundles on 24 (npm run bench: cold init measured there too).
      runtime: Runtime.NODEJS_24_X,
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
        target: BUNDLE_TARGET,
        esbuildArgs: Object.fromEntries(Object.entries(BUNDLE_SUPPORTED).map(([feature, on]) => [`--supported:${feature}`, String(on)])),
        minify: true,
        sourceMap: true,
        // Linked (a separate .map plus a sourceMappingURL comment): EXTERNAL drops the comment, and
        // Node's --enable-source-maps then finds no map.
        sourceMapMode: SourceMapMode.DEFAULT,
        // Stack traces still map to file:line without embedding every source in the map.
        sourcesContent: false,
        // Only what the runtime documents it provides stays out (test/integration/lambda-bundles.test.ts
        // runs each bundle with nothing else beside it).
        externalModules: [...RUNTIME_PROVIDED_MODULES, ...(props.extraExternalModules ?? [])],
        // esbuild's per-file size summary is noise in synth and test output; warnings still show.
        logLevel: LogLevel.WARNING,
        commandHooks: bundleBehindLoader(props.afterBundling ?? (() => [])),
      },
    });

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
