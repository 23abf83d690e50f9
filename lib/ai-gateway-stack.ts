// The gateway's AWS stack. Today: the chat function behind a streaming function URL. Storage,
// queues, the admin API and secrets arrive as their own constructs.
import { join } from 'node:path';
import { Annotations, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { Architecture, FunctionUrlAuthType, InvokeMode, Runtime } from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct, Node } from 'constructs';
import { ConfigError, loadConfig } from '../functions/core/config';

const PROJECT_ROOT = join(__dirname, '..');

/** Provider key variables passed from the deploying shell into the function, when set there. */
export const PROVIDER_KEY_VARIABLES = ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY'] as const;

export interface AiGatewayStackProps extends StackProps {
  /** DEFAULT_PROVIDER of the function (default "ollama", as locally). */
  defaultProvider?: string;
  /** Retention of the chat function's log group, in days (a CloudWatch Logs value; default 30). */
  logRetentionDays?: number;
  openaiBaseUrl?: string;
  ollamaBaseUrl?: string;
  /**
   * Provider keys for the function's environment, e.g. { OPENAI_API_KEY: 'sk-…' }. Interim: they
   * are visible in the template and the Lambda console until the keys move to Secrets Manager.
   */
  providerKeys?: Partial<Record<(typeof PROVIDER_KEY_VARIABLES)[number], string>>;
}

/** Reads the stack's settings from CDK context (`-c key=value` arrives as a string). */
export function propsFromContext(node: Node): Omit<AiGatewayStackProps, 'providerKeys'> {
  const text = (key: string): string | undefined => {
    const value: unknown = node.tryGetContext(key);
    return value === undefined || value === null || value === '' ? undefined : String(value);
  };
  const days = text('logRetentionDays');
  return {
    defaultProvider: text('defaultProvider'),
    logRetentionDays: days === undefined ? undefined : Number(days),
    openaiBaseUrl: text('openaiBaseUrl'),
    ollamaBaseUrl: text('ollamaBaseUrl'),
  };
}

export class AiGatewayStack extends Stack {
  readonly functionUrl: string;

  constructor(scope: Construct, id: string, props: AiGatewayStackProps = {}) {
    super(scope, id, props);

    const environment: Record<string, string> = {
      DEFAULT_PROVIDER: props.defaultProvider ?? 'ollama',
      NODE_OPTIONS: '--enable-source-maps',
      // The documented local key must never open a deployed gateway: tenants and their keys
      // come from the tenant store.
      DEFAULT_TENANT_ENABLED: 'false',
    };
    if (props.openaiBaseUrl) environment.OPENAI_BASE_URL = props.openaiBaseUrl;
    if (props.ollamaBaseUrl) environment.OLLAMA_BASE_URL = props.ollamaBaseUrl;
    // Validate with the function's own rules, so a bad value fails the synth, not the cold start.
    try {
      loadConfig(environment, () => '', 'synth');
    } catch (err) {
      if (err instanceof ConfigError) throw new Error(`AiGatewayStack: invalid setting (context defaultProvider/openaiBaseUrl/ollamaBaseUrl): ${err.message}`);
      throw err;
    }
    const keys = Object.entries(props.providerKeys ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '');
    for (const [name, value] of keys) environment[name] = value;

    const logGroup = new LogGroup(this, 'ChatFunctionLogs', { retention: retentionDays(props.logRetentionDays ?? 30) });

    const chat = new NodejsFunction(this, 'ChatFunction', {
      description: 'AI gateway: OpenAI-compatible chat completions, models and health (streaming function URL)',
      entry: join(PROJECT_ROOT, 'functions/chat/handler.ts'),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      // Graviton: ~20% cheaper per GB-second, and the bundle is plain JS with no native modules.
      architecture: Architecture.ARM_64,
      // The work is mostly waiting on providers, but Lambda allots CPU in proportion to memory, and
      // CPU sets cold-start time and the per-chunk SSE work; 1024 MB also leaves room for the
      // in-memory response cache (64 MiB by default).
      memorySize: 1024,
      // A streamed completion lasts as long as the model generates (minutes for long or reasoning
      // answers); 15 minutes is the Lambda and function URL maximum. Silent providers are still
      // cut off after UPSTREAM_TIMEOUT by the gateway itself.
      timeout: Duration.minutes(15),
      logGroup,
      environment,
      bundling: {
        // Local esbuild (a devDependency) only: Docker bundling is never attempted.
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: 'node22',
        minify: true,
        sourceMap: true,
        // Linked (a separate .map plus a sourceMappingURL comment): EXTERNAL drops the comment, and
        // Node's --enable-source-maps then finds no map.
        sourceMapMode: SourceMapMode.DEFAULT,
        // Stack traces still map to file:line without embedding every source in the map.
        sourcesContent: false,
        // ESM output has no `require`; some dependencies still call it.
        banner: "import { createRequire } from 'module';const require = createRequire(import.meta.url);",
        // The AWS SDK and its @smithy building blocks come with the Node.js runtime: taking both
        // from there keeps the bundle small and their versions consistent with each other.
        // ioredis serves only the opt-in Redis backend (ElastiCache, off by default); left out of
        // the bundle until the stack offers that option, it keeps the cold start small.
        externalModules: ['@aws-sdk/*', '@smithy/*', 'ioredis'],
        // esbuild's per-file size summary is noise in synth and test output; warnings still show.
        logLevel: LogLevel.WARNING,
      },
    });
    if (keys.length > 0) {
      Annotations.of(chat).addWarningV2('ai-gateway:provider-keys-in-environment',
        `${keys.map(([k]) => k).join(', ')} set as plain environment variables (visible in the template and the Lambda console); interim until Secrets Manager. ` +
        'The built-in default key is off in the deployed function, so until tenants are stored every chat request is refused with 401.');
    }

    // Auth NONE: the function URL is the public OpenAI-compatible endpoint, and every request is
    // authenticated by the gateway itself with tenant keys (Authorization: Bearer). IAM auth would
    // require SigV4, which the OpenAI SDKs cannot send.
    const url = chat.addFunctionUrl({ authType: FunctionUrlAuthType.NONE, invokeMode: InvokeMode.RESPONSE_STREAM });
    this.functionUrl = url.url;

    new CfnOutput(this, 'GatewayUrl', { value: url.url, description: 'Gateway endpoint (GET <url>health, POST <url>v1/chat/completions)' });
    // The function URL ends with "/", so this is the OpenAI SDK's baseURL as is.
    new CfnOutput(this, 'OpenAIBaseUrl', { value: `${url.url}v1`, description: 'baseURL for the OpenAI SDKs' });
  }
}

/** CloudWatch Logs accepts only certain retention periods; fail the synth on any other. */
function retentionDays(days: number): RetentionDays {
  const allowed = Object.values(RetentionDays).filter((v): v is number => typeof v === 'number');
  if (!allowed.includes(days)) {
    throw new Error(`AiGatewayStack: logRetentionDays must be one of ${allowed.join(', ')}; got ${days}`);
  }
  return days as RetentionDays;
}
