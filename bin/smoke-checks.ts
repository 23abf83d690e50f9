// The smoke test's checks against a running gateway (a deployed stack or `npm start`): health, a
// sync and a streamed chat completion through the official openai package, the tenant's usage and,
// given admin credentials, an admin call. Each check ends in one result; no check stops the others.
// Nothing printed here may carry the tenant key or the admin password.
import { createHash } from 'node:crypto';
import OpenAI from 'openai';

export interface SmokeOptions {
  /** The gateway's base URL (stack output GatewayUrl, or the edge's URL); a trailing /v1 is accepted. */
  url: string;
  /** A tenant key (gw-...). */
  key: string;
  /** The admin and usage API's base URL (stack output AdminApiUrl); the gateway URL when absent (the local server serves both). */
  adminUrl?: string;
  adminUser?: string;
  adminPassword?: string;
  /** The model or route alias to complete with. */
  model: string;
  timeoutMs: number;
}

export type Outcome = 'PASS' | 'FAIL' | 'SKIP';

export interface CheckResult {
  name: string;
  outcome: Outcome;
  detail: string;
}

/** Runs every check in order, handing each result to `report` as it is known. */
export async function runSmokeChecks(opts: SmokeOptions, report: (result: CheckResult) => void): Promise<CheckResult[]> {
  const gateway = baseUrl(opts.url);
  const admin = baseUrl(opts.adminUrl ?? opts.url);
  const secrets = [opts.key, opts.adminPassword].filter((s): s is string => s !== undefined && s !== '');
  const client = new OpenAI({
    apiKey: opts.key,
    baseURL: `${gateway}/v1`,
    maxRetries: 0,
    timeout: opts.timeoutMs,
    fetch: withContentHash,
  });
  const checks: Array<[string, () => Promise<string | Skip>]> = [
    ['health', () => health(gateway, opts.timeoutMs)],
    ['chat completion', () => syncCompletion(client, opts.model)],
    ['streamed chat completion', () => streamedCompletion(client, opts.model)],
    ['usage', () => usage(admin, opts.key, opts.timeoutMs)],
    ['admin', () => adminCall(admin, opts)],
  ];
  const results: CheckResult[] = [];
  for (const [name, check] of checks) {
    let result: CheckResult;
    try {
      const detail = await check();
      result = detail instanceof Skip ? { name, outcome: 'SKIP', detail: detail.reason } : { name, outcome: 'PASS', detail };
    } catch (err) {
      result = { name, outcome: 'FAIL', detail: redact(describe(err), secrets) };
    }
    results.push(result);
    report(result);
  }
  return results;
}

/** A check that did not run, and why. */
class Skip {
  constructor(readonly reason: string) {}
}

/** Without trailing slashes or /v1, so `<GatewayUrl>`, `<GatewayUrl>/` and `<OpenAIBaseUrl>` all work. */
function baseUrl(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/v1$/, '');
}

/**
 * Adds `x-amz-content-sha256` (the body's SHA-256, hex) to every request with a body. Behind the
 * CloudFront edge, the function URL checks CloudFront's signature over the body against it; the
 * gateway itself ignores it.
 */
const withContentHash: typeof fetch = (input, init) => {
  if (typeof init?.body !== 'string') return fetch(input, init);
  const headers = new Headers(init.headers);
  headers.set('x-amz-content-sha256', createHash('sha256').update(init.body).digest('hex'));
  return fetch(input, { ...init, headers });
};

async function health(gateway: string, timeoutMs: number): Promise<string> {
  const res = await fetch(`${gateway}/health`, { signal: AbortSignal.timeout(timeoutMs) });
  const body = (await readJson(res)) as { status?: string; version?: string; providers?: Record<string, string> };
  if (res.status !== 200 || (body.status !== 'healthy' && body.status !== 'degraded')) throw new Error(`GET /health answered ${res.status}`);
  const providers = Object.entries(body.providers ?? {})
    .map(([name, state]) => `${name} ${state}`)
    .join(', ');
  return `status ${body.status}, version ${body.version ?? '?'}${providers ? ` (${providers})` : ''}`;
}

interface GatewayMetadata {
  provider?: string;
  model?: string;
  latency_ms?: number;
}

async function syncCompletion(client: OpenAI, model: string): Promise<string> {
  const started = Date.now();
  const completion = await client.chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'Reply with one word: pong' }],
    max_tokens: 16,
  });
  const choice = completion.choices[0];
  if (!choice?.message) throw new Error('the answer has no choice');
  const meta = (completion as unknown as { x_gateway?: GatewayMetadata }).x_gateway;
  const tokens = completion.usage?.total_tokens;
  return `${model} → ${served(meta, completion.model)} in ${Date.now() - started} ms${tokens === undefined ? '' : `, ${tokens} tokens`}`;
}

async function streamedCompletion(client: OpenAI, model: string): Promise<string> {
  const started = Date.now();
  const stream = await client.chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'Count from one to five.' }],
    max_tokens: 32,
    stream: true,
  });
  let chunks = 0;
  let firstChunkMs: number | undefined;
  let finish: string | null | undefined;
  let meta: GatewayMetadata | undefined;
  let servedModel = '';
  for await (const chunk of stream) {
    chunks += 1;
    firstChunkMs ??= Date.now() - started;
    finish = chunk.choices[0]?.finish_reason ?? finish;
    meta = (chunk as unknown as { x_gateway?: GatewayMetadata }).x_gateway ?? meta;
    servedModel = chunk.model || servedModel;
  }
  if (chunks === 0) throw new Error('the stream ended without a chunk');
  if (!finish) throw new Error(`the stream ended after ${chunks} chunks without a finish_reason`);
  return `${model} → ${served(meta, servedModel)}: ${chunks} chunks, first after ${firstChunkMs} ms, finish_reason ${finish}`;
}

const served = (meta: GatewayMetadata | undefined, model: string): string => `${meta?.provider ?? '?'}/${meta?.model ?? model}`;

async function usage(admin: string, key: string, timeoutMs: number): Promise<string> {
  const res = await fetch(`${admin}/v1/usage`, { headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(timeoutMs) });
  const body = (await readJson(res)) as { tenant_id?: string; request_count?: number; total_cost_usd?: number; error?: { message?: string } };
  if (res.status !== 200 || typeof body.tenant_id !== 'string') throw new Error(`GET /v1/usage answered ${res.status}${errorText(body)}`);
  // In AWS the usage queue is aggregated within seconds, so this run's requests may not be counted yet.
  return `tenant ${body.tenant_id}: ${body.request_count ?? 0} requests, $${body.total_cost_usd ?? 0} this month`;
}

async function adminCall(admin: string, opts: SmokeOptions): Promise<string | Skip> {
  if (!opts.adminUser || !opts.adminPassword) return new Skip('no --admin-user/--admin-password given');
  const basic = Buffer.from(`${opts.adminUser}:${opts.adminPassword}`).toString('base64');
  const res = await fetch(`${admin}/admin/tenants`, { headers: { authorization: `Basic ${basic}` }, signal: AbortSignal.timeout(opts.timeoutMs) });
  const body = (await readJson(res)) as { data?: unknown[]; error?: { message?: string } };
  if (res.status !== 200 || !Array.isArray(body.data)) throw new Error(`GET /admin/tenants as ${opts.adminUser} answered ${res.status}${errorText(body)}`);
  return `GET /admin/tenants as ${opts.adminUser}: ${body.data.length} tenants`;
}

/** The body as JSON, or {} when it is not (a proxy's HTML error page, say). */
async function readJson(res: Response): Promise<Record<string, unknown>> {
  const text = await res.text();
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function errorText(body: { error?: { message?: string } }): string {
  return body.error?.message ? `: ${body.error.message}` : '';
}

/** One line: the SDK's status and message, or the network error with its causes (ECONNREFUSED, a timeout). */
function describe(err: unknown): string {
  if (err instanceof OpenAI.APIError && err.status !== undefined) {
    const message = (err.error as { message?: string } | undefined)?.message ?? err.message;
    return `${err.status} ${message}`;
  }
  const messages: string[] = [];
  for (let e: unknown = err; e instanceof Error && messages.length < 4; e = (e as Error & { cause?: unknown }).cause) {
    messages.push(e.message);
  }
  // "Connection error.: fetch failed" reads better without the inner full stops.
  const line = messages.length > 0 ? messages.map((m, i) => (i < messages.length - 1 ? m.replace(/\.$/, '') : m)).join(': ') : String(err);
  return line.split('\n')[0] ?? '';
}

function redact(text: string, secrets: string[]): string {
  return secrets.reduce((out, secret) => out.split(secret).join('[REDACTED]'), text);
}
