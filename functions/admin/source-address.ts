// The client's address for per-address login throttling. X-Forwarded-For is written by whoever
// sends the request, so only the entries appended by our own proxies (TRUST_PROXY hops) are
// believed: with [...forwarded, peer], the client is the address the outermost trusted proxy saw.

/**
 * `peer` is the TCP peer (the socket locally, `requestContext.http.sourceIp` on API Gateway);
 * `trustedHops` 0 ignores the header entirely.
 */
export function clientAddress(peer: string, forwardedFor: string | undefined, trustedHops: number): string {
  if (trustedHops <= 0 || forwardedFor === undefined) return peer;
  const chain = [
    ...forwardedFor
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
    peer,
  ];
  // Fewer entries than trusted hops means a proxy did not append: take the furthest one we have.
  return chain[Math.max(0, chain.length - 1 - trustedHops)] ?? peer;
}
