// Runs wrk against one path and parses the JSON line printed by post.lua's done().
import path from 'node:path';
import { runCommand } from './children';
import { assertLocal } from './http-util';

export interface WrkOptions {
  url: string;
  /** Authorization header value; '' sends none. */
  auth: string;
  /** Further headers (a provider's own auth header, a SigV4 signature), name → value. */
  headers?: Record<string, string>;
  body: string;
  threads: number;
  connections: number;
  durationS: number;
  /** Offered req/s for a paced (open-loop) run; omit for a closed-loop throughput run. */
  rate?: number;
  luaDir: string;
}

export interface WrkResult {
  requests: number;
  durationS: number;
  /** Completed requests per second, including error responses. */
  rps: number;
  /** HTTP status >= 400 (wrk's own definition of a status error). */
  badStatus: number;
  socketErrors: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Paced runs only (zeros otherwise); achievedRps is measured between first and last response. */
  pacing: { slots: number; lateSends: number; maxLateMs: number; achievedRps: number };
}

export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  assertLocal(o.url);
  for (const [k, v] of Object.entries(o.headers ?? {})) {
    if (/[\r\n:]/.test(k) || /[\r\n]/.test(v)) throw new Error(`header ${JSON.stringify(k)} cannot be passed to wrk`);
  }
  const script = path.join(o.luaDir, o.rate === undefined ? 'post.lua' : 'paced.lua');
  const args = [`-t${o.threads}`, `-c${o.connections}`, `-d${o.durationS}s`, '--timeout', '5s', '-s', script, o.url];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    BENCH_BODY: o.body,
    BENCH_AUTH: o.auth,
    // One "Name: value" per line; post.lua adds them to every request.
    BENCH_HEADERS: Object.entries(o.headers ?? {})
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n'),
    BENCH_LUA_DIR: o.luaDir,
    BENCH_THREADS: String(o.threads),
    BENCH_RATE: String(o.rate ?? 0),
  };
  const { code, stdout, output } = await runCommand('wrk', 'wrk', args, env, (o.durationS + 30) * 1000);
  const line = stdout.find((l) => l.startsWith('BENCH_JSON '));
  if (code !== 0 || line === undefined) throw new Error(`wrk failed (exit ${code}) for ${o.url}:\n${output}`);
  return parse(JSON.parse(line.slice('BENCH_JSON '.length)) as unknown);
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null) throw new Error(`wrk output: ${what} is not an object`);
  return v as Record<string, unknown>;
}

function num(o: Record<string, unknown>, key: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`wrk output: ${key} is not a number`);
  return v;
}

function parse(raw: unknown): WrkResult {
  const r = obj(raw, 'result');
  const e = obj(r.errors, 'errors');
  const l = obj(r.latency_us, 'latency_us');
  const p = obj(r.pacing, 'pacing');
  const requests = num(r, 'requests');
  const durationS = num(r, 'duration_us') / 1e6;
  const ms = (k: string): number => num(l, k) / 1000;
  return {
    requests,
    durationS,
    rps: requests / durationS,
    badStatus: num(e, 'status'),
    socketErrors: num(e, 'connect') + num(e, 'read') + num(e, 'write') + num(e, 'timeout'),
    latencyMs: { p50: ms('p50'), p90: ms('p90'), p99: ms('p99'), max: ms('max'), mean: ms('mean') },
    pacing: { slots: num(p, 'slots'), lateSends: num(p, 'late_sends'), maxLateMs: num(p, 'max_late_ms'), achievedRps: num(p, 'achieved_rps') },
  };
}
