// Whether the chat function's default provider can answer from AWS Lambda at all. An address that
// only means something on the deploying machine (localhost, Ollama's default) or on a private
// network the function is not in would deploy fine and then fail every request that falls to it.
import { isIP } from 'node:net';
import type { GatewayConfig } from '../functions/config';

/** Where the default provider's address was configured, to name it in the refusal. */
export interface AddressSource {
  /** The setting that gave the address, e.g. "context ollamaBaseUrl". */
  key: string;
  url: string;
}

export interface Deployment {
  /** Whether context ollamaBaseUrl was given (Ollama's default address is the local host). */
  ollamaUrlSet: boolean;
  /** How the routing document's errors name it ("context gatewayConfigFile (routing.json)"). */
  routingSource: string;
  /** The chat function runs in a VPC (the ElastiCache option), where private addresses may route. */
  inVpc: boolean;
}

/** The reason the default provider cannot be reached from Lambda, or undefined when it can. */
export function unreachableDefaultProvider(config: GatewayConfig, deployment: Deployment): string | undefined {
  const name = config.defaultProvider;
  const address = defaultProviderAddress(config, deployment);
  if (address === undefined) return undefined;
  if (address === 'ollama-default') {
    return (
      `context defaultProvider is "${name}", but no ollamaBaseUrl is set: Ollama's default address (http://localhost:11434) is the Lambda's own host. ` +
      'Set context ollamaBaseUrl to an Ollama server the function can reach, or choose openai, anthropic or bedrock'
    );
  }
  const host = new URL(address.url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (isLoopback(host)) {
    return `context defaultProvider is "${name}", whose address ${address.url} (${address.key}) is the Lambda's own host: give an address the function can reach`;
  }
  if (!deployment.inVpc && isPrivate(host)) {
    return (
      `context defaultProvider is "${name}", whose address ${address.url} (${address.key}) is on a private network, ` +
      'and the chat function runs outside any VPC: give a public address (or deploy with the redisVpcId/redisSubnetIds options that place it in your VPC)'
    );
  }
  return undefined;
}

function defaultProviderAddress(config: GatewayConfig, deployment: Deployment): AddressSource | 'ollama-default' | undefined {
  switch (config.defaultProvider) {
    case 'ollama':
      return deployment.ollamaUrlSet ? { key: 'context ollamaBaseUrl', url: config.ollama.baseUrl } : 'ollama-default';
    case 'openai':
      return config.openai.explicitBaseUrl ? { key: 'context openaiBaseUrl', url: config.openai.baseUrl } : undefined;
    case 'anthropic':
      return config.anthropic.explicitBaseUrl ? { key: 'context anthropicBaseUrl', url: config.anthropic.baseUrl } : undefined;
    case 'bedrock':
      return undefined;
  }
  const named = config.namedProviders.find((p) => p.name === config.defaultProvider);
  if (named === undefined) return undefined;
  const key = `${deployment.routingSource} providers.${named.name}`;
  switch (named.type) {
    case 'openai':
    case 'ollama':
      return { key: `${key}.base_url`, url: named.base_url };
    case 'anthropic':
      return named.base_url === undefined ? undefined : { key: `${key}.base_url`, url: named.base_url };
    case 'azure-openai':
      return { key: `${key}.endpoint`, url: named.endpoint };
    case 'bedrock':
      return undefined;
  }
}

function isLoopback(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost') || host === '0.0.0.0' || host === '::' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** RFC 1918, link-local and IPv6 unique-local addresses, and single-label names (resolvable only by a private DNS). */
function isPrivate(host: string): boolean {
  if (isIP(host) === 4) {
    const [a = 0, b = 0] = host.split('.').map(Number);
    return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254);
  }
  if (isIP(host) === 6) return /^f[cd]/.test(host) || /^fe[89ab]/.test(host);
  return !host.includes('.');
}
