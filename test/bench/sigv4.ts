// SigV4 signing for the bench's direct requests to the fake Bedrock (the gateway signs through
// the real AWS SDK). wrk cannot compute HMACs per request, so a request is signed once and
// replayed: the fake still verifies the signature on every request, so its per-request work is
// what the gateway's requests cost it, and a signature stays valid well past a round.
import { fakeSigner } from '../fakes/bedrock-upstream';

const signer = fakeSigner();

/**
 * The headers to add to a POST of `body` to `url`: x-amz-date, x-amz-content-sha256 and
 * authorization. Host is signed as "127.0.0.1:PORT", exactly what wrk and node:http send, and
 * is left out of the result so neither client sends it twice.
 */
export async function sigV4Headers(url: URL, body: string): Promise<Record<string, string>> {
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query: {},
    headers: { host: url.host },
    body,
  });
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) if (k.toLowerCase() !== 'host') out[k] = v;
  return out;
}
