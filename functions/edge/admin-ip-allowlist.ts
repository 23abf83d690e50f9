// functions/edge — the admin API's address allowlist (context adminAllowedIps): an HTTP API Lambda
// authorizer with simple responses that admits a request only from the listed CIDRs. It runs
// before the admin function, so a refused address never reaches the login check; API Gateway
// caches each address's answer, so most requests cost no invocation.
import { BlockList, isIP } from 'node:net';

/** The fields of an HTTP API (payload 2.0) authorizer event this reads. */
export interface AuthorizerEvent {
  requestContext: { http: { sourceIp: string } };
}

/** The CIDRs of ADMIN_ALLOWED_IPS (comma-separated, each with its prefix length, as the stack writes them). */
export function allowList(cidrs: string): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs.split(',').map((c) => c.trim())) {
    if (cidr === '') continue;
    const [address = '', prefix = ''] = cidr.split('/');
    const version = isIP(address);
    if (version === 0 || !/^\d+$/.test(prefix)) throw new Error(`ADMIN_ALLOWED_IPS: "${cidr}" is not a CIDR`);
    list.addSubnet(address, Number(prefix), version === 4 ? 'ipv4' : 'ipv6');
  }
  return list;
}

export function isAllowed(list: BlockList, sourceIp: string): boolean {
  const version = isIP(sourceIp);
  return version !== 0 && list.check(sourceIp, version === 4 ? 'ipv4' : 'ipv6');
}

const allowed = allowList(process.env.ADMIN_ALLOWED_IPS ?? '');

export const handler = async (event: AuthorizerEvent): Promise<{ isAuthorized: boolean }> => ({
  isAuthorized: isAllowed(allowed, event.requestContext.http.sourceIp),
});
