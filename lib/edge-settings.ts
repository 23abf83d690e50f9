// The protected edge's settings, read from CDK context: CloudFront in front of the chat function
// URL (edge=cloudfront, optionally with an existing CLOUDFRONT-scope web ACL), an IP allowlist for
// the admin API, and the separate us-east-1 stack holding a web ACL (edgeWaf=true).
import { isIP } from 'node:net';
import { SettingsError } from './settings-error';

/** A context value as settingsFromContext reads it: undefined when absent or empty. */
export type ContextReader = (key: string) => unknown;

export interface CloudFrontEdgeSettings {
  /** ARN of a WAFv2 web ACL with scope CLOUDFRONT (it lives in us-east-1) to attach. */
  webAclArn?: string;
  /** How long CloudFront waits for the first byte, and between bytes, from the chat function. */
  originTimeoutSeconds: number;
}

export interface EdgeSettings {
  cloudfront?: CloudFrontEdgeSettings;
  /** CIDRs allowed to call /admin/* on the HTTP API; absent: any address (credentials still required). */
  adminAllowedIps?: string[];
}

export interface EdgeWafSettings {
  /** Requests per client IP in any 5-minute window above which that IP is blocked for a while. */
  rateLimit: number;
  /** CIDRs allowed through the edge at all; absent: every address. */
  allowedIps?: string[];
}

/** CloudFront's standard origin response timeout quota is 60 s; up to 180 s after a quota increase. */
const DEFAULT_ORIGIN_TIMEOUT_SECONDS = 60;
const MAX_ORIGIN_TIMEOUT_SECONDS = 180;
/** 10 requests a second per address, sustained: a service behind one NAT address may need more. */
const DEFAULT_RATE_LIMIT = 3000;
const WEB_ACL_ARN = /^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global\/webacl\/[\w-]{1,128}\/[0-9a-f-]{36}$/;

export function edgeSettingsFromContext(read: ContextReader): EdgeSettings {
  const edge = text(read, 'edge')?.toLowerCase() ?? 'none';
  if (edge !== 'cloudfront' && edge !== 'none') throw new SettingsError(`context edge must be cloudfront or none; got "${edge}"`);
  const webAclArn = text(read, 'edgeWebAclArn');
  const timeout = text(read, 'edgeOriginTimeout');
  if (edge === 'none') {
    if (webAclArn !== undefined || timeout !== undefined) throw new SettingsError('context edgeWebAclArn and edgeOriginTimeout need edge=cloudfront');
  } else if (webAclArn !== undefined && !WEB_ACL_ARN.test(webAclArn)) {
    throw new SettingsError(
      `context edgeWebAclArn must be the ARN of a web ACL with scope CLOUDFRONT (arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>); got "${webAclArn}"`,
    );
  }
  const adminAllowedIps = cidrList(read, 'adminAllowedIps');
  return {
    cloudfront:
      edge === 'cloudfront'
        ? { webAclArn, originTimeoutSeconds: wholeNumber(timeout, 'edgeOriginTimeout', 1, MAX_ORIGIN_TIMEOUT_SECONDS) ?? DEFAULT_ORIGIN_TIMEOUT_SECONDS }
        : undefined,
    adminAllowedIps,
  };
}

/** The web ACL stack's settings, or undefined when context edgeWaf is not true. */
export function edgeWafFromContext(read: ContextReader): EdgeWafSettings | undefined {
  const waf = text(read, 'edgeWaf')?.toLowerCase();
  const rate = text(read, 'edgeRateLimit');
  const allowedIps = cidrList(read, 'edgeAllowedIps');
  if (waf === undefined || waf === 'false') {
    if (rate !== undefined || allowedIps !== undefined) throw new SettingsError('context edgeRateLimit and edgeAllowedIps need edgeWaf=true');
    return undefined;
  }
  if (waf !== 'true') throw new SettingsError(`context edgeWaf must be true or false; got "${waf}"`);
  // AWS WAF's own bounds for a rate-based rule's limit.
  return { rateLimit: wholeNumber(rate, 'edgeRateLimit', 10, 2_000_000_000) ?? DEFAULT_RATE_LIMIT, allowedIps };
}

function text(read: ContextReader, key: string): string | undefined {
  const value = read(key);
  const trimmed = value === undefined || value === null ? '' : String(value).trim();
  return trimmed === '' ? undefined : trimmed;
}

function wholeNumber(value: string | undefined, key: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new SettingsError(`context ${key} must be a whole number from ${min} to ${max}; got "${value}"`);
  return n;
}

/** CIDRs as a JSON array or comma-separated; a bare address is its own /32 or /128. */
function cidrList(read: ContextReader, key: string): string[] | undefined {
  const value = read(key);
  if (value === undefined || value === null || value === '') return undefined;
  let list: unknown = value;
  if (typeof value === 'string') {
    try {
      list = value.trim().startsWith('[') ? JSON.parse(value) : value.split(',');
    } catch {
      list = undefined;
    }
  }
  if (!Array.isArray(list) || list.length === 0) throw new SettingsError(`context ${key} must be a list of CIDRs (JSON array or comma-separated)`);
  return list.map((entry: unknown) => {
    const cidr = typeof entry === 'string' ? normalizeCidr(entry.trim()) : undefined;
    if (cidr === undefined) throw new SettingsError(`context ${key} must be a list of CIDRs such as 203.0.113.0/24 or 2001:db8::/32; got "${String(entry)}"`);
    return cidr;
  });
}

function normalizeCidr(entry: string): string | undefined {
  const [address = '', prefix, extra] = entry.split('/');
  const version = isIP(address);
  if (version === 0 || extra !== undefined) return undefined;
  const bits = version === 4 ? 32 : 128;
  if (prefix === undefined) return `${address}/${bits}`;
  const n = Number(prefix);
  return /^\d+$/.test(prefix) && n <= bits ? `${address}/${n}` : undefined;
}

/** Whether a CIDR is IPv4 (WAF keeps each address version in its own IP set). */
export const isIpv4Cidr = (cidr: string): boolean => isIP(cidr.split('/')[0] ?? '') === 4;
