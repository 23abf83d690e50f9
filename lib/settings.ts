// The stack's settings: read from CDK context (cdk.json, or `-c key=value`, which always arrives
// as a string), validated here so that a bad value fails `cdk synth` with the setting named,
// instead of failing a function's cold start after a deploy.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import { ConfigError, loadConfig, parseRoutingJson, type LogLevel } from '../functions/config';
import { unreachableDefaultProvider } from './default-provider-check';
import { edgeSettingsFromContext, type EdgeSettings } from './edge-settings';
import { SettingsError } from './settings-error';

export { SettingsError };

/** Opt-in shared state in an existing ElastiCache (Valkey/Redis) cluster; puts the chat function in that VPC. */
export interface RedisSettings {
  /** redis:// or rediss:// URL of the cluster endpoint. */
  url: string;
  vpcId: string;
  /** Private subnets (with a route to the internet, e.g. through NAT) for the chat function's network interfaces. */
  subnetIds: string[];
  /** Security groups of the chat function; the cluster's group must admit them on its port. */
  securityGroupIds: string[];
}

export interface GatewaySettings {
  /** DEFAULT_PROVIDER of the chat function (default "bedrock": the one provider that needs no key and no address in AWS). */
  defaultProvider?: string;
  /** LOG_LEVEL of every function (default "info"). */
  logLevel?: LogLevel;
  /** Retention of every log group (default 30 days). */
  logRetentionDays?: RetentionDays;
  openaiBaseUrl?: string;
  anthropicBaseUrl?: string;
  ollamaBaseUrl?: string;
  /** The routing config (the GATEWAY_CONFIG document) as an object; passed as GATEWAY_CONFIG_JSON. */
  gatewayConfig?: Record<string, unknown>;
  /** Where gatewayConfig came from, as its errors name it ("context gatewayConfigFile (routing.json)"). */
  gatewayConfigSource?: string;
  /** Default of the AlertEmail stack parameter. */
  alertEmail?: string;
  /** Limits of a tenant created through the admin API without them (0: unlimited / no budget). */
  tenantDefaults?: { rpm?: string; tpm?: string; budgetUsd?: string };
  redis?: RedisSettings;
  /** The optional CloudFront edge and the admin API's IP allowlist. */
  edge?: EdgeSettings;
  /** OTLP_ENDPOINT of the chat function: the collector's OTLP/HTTP base URL; no OTLP export when absent. */
  otlpEndpoint?: string;
}

/** Lambda refuses environments over 4 KB in total; the rest of the variables need some of it. */
const MAX_GATEWAY_CONFIG_BYTES = 3000;

/** The functions' variable each context key sets, so their validation errors can name the key instead. */
const CONTEXT_KEY_OF_VARIABLE: Record<string, string> = {
  DEFAULT_PROVIDER: 'defaultProvider',
  LOG_LEVEL: 'logLevel',
  OPENAI_BASE_URL: 'openaiBaseUrl',
  ANTHROPIC_BASE_URL: 'anthropicBaseUrl',
  OLLAMA_BASE_URL: 'ollamaBaseUrl',
  TENANT_DEFAULT_RPM: 'tenantDefaultRpm',
  TENANT_DEFAULT_TPM: 'tenantDefaultTpm',
  TENANT_DEFAULT_BUDGET_USD: 'tenantDefaultBudgetUsd',
  REDIS_URL: 'redisUrl',
  OTLP_ENDPOINT: 'otlpEndpoint',
};

/** "TENANT_DEFAULT_RPM must be …" → "context tenantDefaultRpm must be …"; a message naming no such variable is kept. */
function inContextTerms(message: string): string {
  const variable = /^([A-Z][A-Z0-9_]*)\b/.exec(message)?.[1];
  const key = variable === undefined ? undefined : CONTEXT_KEY_OF_VARIABLE[variable];
  return key === undefined ? message : `context ${key}${message.slice(variable?.length)}`;
}

/**
 * Reads the settings from context. Keys: defaultProvider, logLevel, logRetentionDays,
 * openaiBaseUrl, anthropicBaseUrl, ollamaBaseUrl, gatewayConfig (object or JSON text),
 * gatewayConfigFile (path to a JSON file), alertEmail, tenantDefaultRpm, tenantDefaultTpm,
 * tenantDefaultBudgetUsd, redisUrl + redisVpcId + redisSubnetIds + redisSecurityGroupIds (lists as
 * JSON arrays or comma-separated), otlpEndpoint, and the edge keys of edge-settings.ts.
 */
export function settingsFromContext(node: Node): GatewaySettings {
  const raw = (key: string): unknown => {
    const value: unknown = node.tryGetContext(key);
    return value === undefined || value === null || value === '' ? undefined : value;
  };
  const text = (key: string): string | undefined => {
    const value = raw(key);
    return value === undefined ? undefined : String(value);
  };
  const days = text('logRetentionDays');
  const level = text('logLevel');
  return {
    defaultProvider: text('defaultProvider'),
    logLevel: level === undefined ? undefined : (level.toLowerCase() as LogLevel),
    logRetentionDays: days === undefined ? undefined : retentionDays(days),
    openaiBaseUrl: text('openaiBaseUrl'),
    anthropicBaseUrl: text('anthropicBaseUrl'),
    ollamaBaseUrl: text('ollamaBaseUrl'),
    ...gatewayConfigFromContext(raw('gatewayConfig'), text('gatewayConfigFile')),
    alertEmail: text('alertEmail'),
    tenantDefaults: { rpm: text('tenantDefaultRpm'), tpm: text('tenantDefaultTpm'), budgetUsd: text('tenantDefaultBudgetUsd') },
    redis: redisFromContext(text('redisUrl'), raw('redisVpcId'), raw('redisSubnetIds'), raw('redisSecurityGroupIds')),
    edge: edgeSettingsFromContext(raw),
    otlpEndpoint: otlpEndpointFromContext(text('otlpEndpoint')),
  };
}

/** The collector's base URL: http(s) only, as the exporter speaks OTLP/HTTP. */
function otlpEndpointFromContext(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new SettingsError(
      `context otlpEndpoint must be an http(s) URL, the collector's OTLP/HTTP base (e.g. https://collector.example.com:4318); got "${value}"`,
    );
  }
  return value;
}

function gatewayConfigFromContext(inline: unknown, file: string | undefined): Pick<GatewaySettings, 'gatewayConfig' | 'gatewayConfigSource'> {
  if (inline !== undefined && file !== undefined) throw new SettingsError('set either context gatewayConfig or gatewayConfigFile, not both');
  let doc: unknown = inline;
  let source = 'context gatewayConfig';
  if (file !== undefined) {
    source = `context gatewayConfigFile (${file})`;
    try {
      doc = readFileSync(resolve(file), 'utf8');
    } catch (err) {
      throw new SettingsError(`${source}: cannot read the file: ${(err as Error).message}`);
    }
  }
  if (doc === undefined) return {};
  if (typeof doc === 'string') {
    try {
      doc = JSON.parse(doc);
    } catch (err) {
      throw new SettingsError(`${source} is not valid JSON: ${(err as Error).message}`);
    }
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new SettingsError(`${source} must be a JSON object`);
  return { gatewayConfig: doc as Record<string, unknown>, gatewayConfigSource: source };
}

function idList(value: unknown, key: string): string[] {
  let list: unknown = value;
  if (typeof value === 'string') {
    try {
      list = value.trim().startsWith('[') ? JSON.parse(value) : value.split(',');
    } catch {
      list = undefined;
    }
  }
  if (!Array.isArray(list) || list.length === 0 || list.some((v) => typeof v !== 'string' || v.trim() === '')) {
    throw new SettingsError(`context ${key} must be a non-empty list of ids (JSON array or comma-separated)`);
  }
  return (list as string[]).map((v) => v.trim());
}

function redisFromContext(url: string | undefined, vpcId: unknown, subnetIds: unknown, securityGroupIds: unknown): RedisSettings | undefined {
  const network = [vpcId, subnetIds, securityGroupIds];
  if (url === undefined) {
    if (network.some((v) => v !== undefined)) throw new SettingsError('context redisVpcId/redisSubnetIds/redisSecurityGroupIds need redisUrl');
    return undefined;
  }
  if (typeof vpcId !== 'string' || !/^vpc-[0-9a-f]+$/.test(vpcId)) throw new SettingsError('context redisUrl needs redisVpcId (vpc-...)');
  const subnets = idList(subnetIds, 'redisSubnetIds');
  const groups = idList(securityGroupIds, 'redisSecurityGroupIds');
  if (subnets.some((s) => !/^subnet-[0-9a-f]+$/.test(s))) throw new SettingsError('context redisSubnetIds must be subnet-... ids');
  if (groups.some((g) => !/^sg-[0-9a-f]+$/.test(g))) throw new SettingsError('context redisSecurityGroupIds must be sg-... ids');
  return { url, vpcId, subnetIds: subnets, securityGroupIds: groups };
}

/** The validated literal part of the chat function's environment (no tokens). */
export interface ResolvedSettings {
  /** Variables every function gets. */
  common: Record<string, string>;
  /** Variables only the chat function gets. */
  chat: Record<string, string>;
  /** Variables only the admin function gets. */
  admin: Record<string, string>;
  retention: RetentionDays;
  alertEmail: string;
  redis?: RedisSettings;
}

/**
 * Validates the settings with the functions' own rules (loadConfig, parseRoutingJson), so a value
 * the functions would refuse at start is refused at synth.
 */
export function resolveSettings(settings: GatewaySettings): ResolvedSettings {
  const common: Record<string, string> = {
    LOG_LEVEL: settings.logLevel ?? 'info',
    POWERTOOLS_SERVICE_NAME: 'ai-gateway',
    POWERTOOLS_METRICS_NAMESPACE: 'AiGateway',
    // Stack traces point at the TypeScript sources through the bundle's source map.
    NODE_OPTIONS: '--enable-source-maps',
  };
  const chat: Record<string, string> = { DEFAULT_PROVIDER: settings.defaultProvider ?? 'bedrock' };
  if (settings.openaiBaseUrl) chat.OPENAI_BASE_URL = settings.openaiBaseUrl;
  if (settings.anthropicBaseUrl) chat.ANTHROPIC_BASE_URL = settings.anthropicBaseUrl;
  if (settings.ollamaBaseUrl) chat.OLLAMA_BASE_URL = settings.ollamaBaseUrl;
  if (settings.otlpEndpoint) {
    chat.OTLP_ENDPOINT = settings.otlpEndpoint;
    // Each invocation waits for its export before it returns: a collector that does not answer
    // holds it 2 s at most (the local default, 10 s, suits a long-lived process).
    chat.OTEL_EXPORTER_OTLP_TIMEOUT = '2000';
  }
  if (settings.redis) {
    chat.REDIS_URL = settings.redis.url;
    // With a shared Redis the breaker state goes there too, instead of the DynamoDB state table.
    chat.USE_DISTRIBUTED_CB = 'true';
  }
  const admin: Record<string, string> = {};
  const defaults = settings.tenantDefaults ?? {};
  if (defaults.rpm !== undefined) admin.TENANT_DEFAULT_RPM = defaults.rpm;
  if (defaults.tpm !== undefined) admin.TENANT_DEFAULT_TPM = defaults.tpm;
  if (defaults.budgetUsd !== undefined) admin.TENANT_DEFAULT_BUDGET_USD = defaults.budgetUsd;
  const routingSource = settings.gatewayConfigSource ?? 'context gatewayConfig';
  try {
    if (settings.gatewayConfig) parseRoutingJson(settings.gatewayConfig, routingSource);
    // With the routing document, so DEFAULT_PROVIDER may name one of its named providers.
    const routing = settings.gatewayConfig ? { GATEWAY_CONFIG_JSON: JSON.stringify(settings.gatewayConfig) } : {};
    const config = loadConfig({ ...common, ...chat, ...admin, ...routing }, () => '', 'synth');
    const unreachable = unreachableDefaultProvider(config, {
      ollamaUrlSet: settings.ollamaBaseUrl !== undefined,
      routingSource,
      inVpc: settings.redis !== undefined,
    });
    if (unreachable) throw new SettingsError(unreachable);
  } catch (err) {
    if (err instanceof ConfigError) throw new SettingsError(inContextTerms(err.message));
    throw err;
  }
  if (settings.gatewayConfig) {
    const json = JSON.stringify(settings.gatewayConfig);
    if (Buffer.byteLength(json) > MAX_GATEWAY_CONFIG_BYTES) {
      throw new SettingsError(
        `context gatewayConfig is ${Buffer.byteLength(json)} bytes as JSON; Lambda environments hold 4 KB in all, so keep it under ${MAX_GATEWAY_CONFIG_BYTES}`,
      );
    }
    chat.GATEWAY_CONFIG_JSON = json;
    // The admin API checks tenants' provider names against the named providers it lists.
    admin.GATEWAY_CONFIG_JSON = json;
  }
  const email = settings.alertEmail ?? '';
  if (email !== '' && !EMAIL.test(email)) throw new SettingsError(`context alertEmail must be an e-mail address; got "${email}"`);
  return { common, chat, admin, retention: settings.logRetentionDays ?? RetentionDays.ONE_MONTH, alertEmail: email, redis: settings.redis };
}

/** Also the AlertEmail parameter's AllowedPattern (empty: no subscription). */
export const EMAIL_PATTERN = '^$|^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$';
const EMAIL = new RegExp(EMAIL_PATTERN);

/** CloudWatch Logs accepts only certain retention periods; fail the synth on any other. */
function retentionDays(text: string): RetentionDays {
  const days = Number(text);
  const allowed = Object.values(RetentionDays).filter((v): v is number => typeof v === 'number');
  if (!allowed.includes(days)) {
    throw new SettingsError(`context logRetentionDays must be one of ${allowed.join(', ')}; got "${text}"`);
  }
  return days as RetentionDays;
}
