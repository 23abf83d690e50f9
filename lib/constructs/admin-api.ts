// The management plane on an API Gateway HTTP API: /admin/* (tenant and user management, Basic
// auth or console sessions with RBAC in the function), the web console's static files at
// /console/ (from the admin function's own asset: same origin as the API, no bucket to secure or
// keep in step with the code) and GET /v1/usage (a tenant's own spend, tenant key auth).
// Separate functions from chat: neither needs the provider keys nor streaming, and the admin
// function is the only one that may write tenants.
import { Duration } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination, type HttpRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledge } from '../nag';
import { GatewayFunction } from './gateway-function';

export interface AdminApiProps {
  tenants: Table;
  usage: Table;
  /** The state table: failed-login counts shared by every admin instance (rate-limit items). */
  state: Table;
  adminSecret: ISecret;
  retention: RetentionDays;
  commonEnvironment: Record<string, string>;
  /** The admin function's own settings (tenant defaults). */
  adminEnvironment?: Record<string, string>;
  /** CIDRs that may call /admin/* (context adminAllowedIps); absent: any address. */
  allowedIps?: string[];
}

/** Stage-wide limits: a management API sees little traffic; this caps what a flood can cost. */
const THROTTLE = { rateLimit: 50, burstLimit: 100 };

export class AdminApi extends Construct {
  readonly api: HttpApi;
  readonly admin: GatewayFunction;
  readonly usage: GatewayFunction;
  readonly accessLogs: LogGroup;
  /** The /admin/* address allowlist, when one is configured. */
  readonly allowlist?: GatewayFunction;

  constructor(scope: Construct, id: string, props: AdminApiProps) {
    super(scope, id);
    const storeEnvironment = {
      ...props.commonEnvironment,
      // Never seed the documented local tenant (gw-default-key) into the deployed tenant store.
      DEFAULT_TENANT_ENABLED: 'false',
      TENANTS_TABLE: props.tenants.tableName,
      USAGE_TABLE: props.usage.tableName,
    };

    this.admin = new GatewayFunction(this, 'Admin', {
      description: 'AI gateway: admin API (tenants, keys, users, usage reports)',
      entry: 'functions/admin/lambda.ts',
      // Logins verify scrypt hashes (16 MiB, CPU-bound); more memory is more CPU and a faster login.
      memorySize: 512,
      // Under API Gateway's 30 s integration limit, so a slow call ends with the function's own error.
      timeout: Duration.seconds(10),
      retention: props.retention,
      environment: { ...storeEnvironment, ...props.adminEnvironment, ADMIN_SECRET_ARN: props.adminSecret.secretArn, STATE_TABLE: props.state.tableName },
      extraExternalModules: ['ioredis'],
      // The console's files, built into console/ beside the bundle, where the function serves them from.
      afterBundling: (_inputDir, outputDir) => [
        `node --require tsx/cjs -e 'require("./console/build.ts").buildConsole(process.argv[1]).catch((e) => { console.error(e); process.exit(1); })' "${outputDir}/console"`,
      ],
    });
    props.tenants.grantReadWriteData(this.admin.fn);
    props.usage.grantReadData(this.admin.fn);
    // Login throttling counts failures per minute in the state table, so every instance sees
    // them: one consistent read and one counter update.
    // The provider list reads the chat function's breaker and cooldown partitions there (Query).
    this.admin.fn.addToRolePolicy(
      new PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query'], resources: [props.state.tableArn] }),
    );
    // GetSecretValue on the admin credential only (grantRead would add DescribeSecret). No
    // statement names the provider secret: this function cannot read provider keys.
    this.admin.fn.addToRolePolicy(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [props.adminSecret.secretArn] }));

    this.usage = new GatewayFunction(this, 'Usage', {
      description: "AI gateway: GET /v1/usage, a tenant's spend this period",
      entry: 'functions/usage/api-lambda.ts',
      memorySize: 256,
      timeout: Duration.seconds(10),
      retention: props.retention,
      environment: storeEnvironment,
      extraExternalModules: ['ioredis'],
    });
    // Tenants: key lookups only (no Scan: a tenant's request has no reason to list others).
    this.usage.fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'],
        resources: [props.tenants.tableArn],
      }),
    );
    props.usage.grantReadData(this.usage.fn);

    this.accessLogs = new LogGroup(this, 'AccessLogs', { retention: props.retention });
    this.api = new HttpApi(this, 'HttpApi', {
      description: 'AI gateway admin API (/admin/*) and usage API (/v1/usage)',
      // The stage is declared below, with access logs and throttling.
      createDefaultStage: false,
    });
    new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: THROTTLE,
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        // No headers or bodies: Authorization carries credentials.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            method: '$context.httpMethod',
            path: '$context.path',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });

    let authorizer: HttpLambdaAuthorizer | undefined;
    if (props.allowedIps) {
      this.allowlist = new GatewayFunction(this, 'AdminAllowlist', {
        description: 'AI gateway: admits /admin/* requests only from the allowed addresses',
        entry: 'functions/edge/admin-ip-allowlist.ts',
        memorySize: 128,
        timeout: Duration.seconds(3),
        retention: props.retention,
        environment: { ...props.commonEnvironment, ADMIN_ALLOWED_IPS: props.allowedIps.join(',') },
        extraExternalModules: ['ioredis'],
      });
      authorizer = new HttpLambdaAuthorizer('AdminAllowlist', this.allowlist.fn, {
        responseTypes: [HttpLambdaResponseType.SIMPLE],
        // Keyed by the caller's address, so one invocation answers for that address for 5 minutes.
        identitySource: ['$context.identity.sourceIp'],
        resultsCacheTtl: Duration.minutes(5),
      });
    }

    // One integration (and one invoke permission) for the admin API and the console's files;
    // the allowlist, when set, guards both.
    const adminIntegration = new HttpLambdaIntegration('AdminIntegration', this.admin.fn);
    const adminRoutes = [
      ...this.api.addRoutes({ path: '/admin/{proxy+}', methods: [HttpMethod.ANY], integration: adminIntegration, authorizer }),
      ...this.api.addRoutes({ path: '/console', methods: [HttpMethod.GET, HttpMethod.HEAD], integration: adminIntegration, authorizer }),
      ...this.api.addRoutes({ path: '/console/{proxy+}', methods: [HttpMethod.GET, HttpMethod.HEAD], integration: adminIntegration, authorizer }),
    ];
    const usageRoutes = this.api.addRoutes({
      path: '/v1/usage',
      methods: [HttpMethod.GET],
      integration: new HttpLambdaIntegration('UsageIntegration', this.usage.fn),
    });
    const routes: HttpRoute[] = [...(authorizer ? [] : adminRoutes), ...usageRoutes];
    for (const route of routes) {
      acknowledge(
        route,
        'AwsSolutions-APIG4',
        'Authentication happens in the functions, on every request: /admin/* checks Basic credentials ' +
          'against scrypt hashes with RBAC and failed-login throttling; ' +
          '/v1/usage checks the tenant key (Bearer gw-...) like every gateway route; ' +
          '/console/* serves the static console, which holds no data (its API calls are /admin/*). ' +
          'No API Gateway authorizer can verify either scheme without duplicating that logic.',
      );
    }
  }

  /** https://<id>.execute-api.<region>.amazonaws.com/ */
  get url(): string {
    return this.api.apiEndpoint + '/';
  }

  /** The web console: https://<id>.execute-api.<region>.amazonaws.com/console/ */
  get consoleUrl(): string {
    return `${this.api.apiEndpoint}/console/`;
  }
}
