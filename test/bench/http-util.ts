// Minimal node:http client helpers for smoke checks, readiness polling and cold start.
import http from 'node:http';

export interface HttpResult {
  status: number;
  body: string;
}

/** Only loopback targets are allowed: the bench must never send load anywhere else. */
export function assertLocal(url: string): URL {
  const u = new URL(url);
  if (u.protocol !== 'http:' || u.hostname !== '127.0.0.1') throw new Error(`refusing non-local target ${url}`);
  return u;
}

export function request(
  url: string,
  opts: { method: 'GET' | 'POST'; body?: string; headers?: Record<string, string>; agent?: http.Agent | false; timeoutMs: number },
): Promise<HttpResult> {
  const u = assertLocal(url);
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(opts.body));
  }
  return new Promise((resolve, reject) => {
    const req = http.request(u, { method: opts.method, headers, agent: opts.agent ?? false }, (res) => {
      res.setEncoding('utf8');
      let body = '';
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.setTimeout(opts.timeoutMs, () => req.destroy(new Error(`timeout after ${opts.timeoutMs} ms: ${url}`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}
