// Starting the long-running processes of the bench (fake upstreams, floor, gateways) and
// waiting until each is ready. Everything is started through children.ts, so it is cleaned up.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { build, stop as stopEsbuild } from 'esbuild';
import { type Child, runCommand, sleep, startChild } from './children';
import { assertLocal, request } from './http-util';
import type { ProviderName } from './provider-names';

export interface BenchPaths {
  root: string;
  benchDir: string;
  outDir: string;
}

/** A small, explicit environment so the caller's shell (NODE_OPTIONS, provider keys) cannot skew a run. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  for (const k of ['HOME', 'TMPDIR', 'LANG']) if (process.env[k]) env[k] = process.env[k];
  return { ...env, ...extra };
}

/** A fake upstream (OpenAI unless told) in its own process; resolves with its base URL (OpenAI: ".../v1"). */
export async function startUpstream(p: BenchPaths, provider: ProviderName = 'openai'): Promise<{ child: Child; url: string }> {
  const name = provider === 'openai' ? 'upstream' : `upstream-${provider}`;
  const child = startChild(name, process.execPath, ['--import', 'tsx', path.join(p.benchDir, 'upstream-process.ts'), provider], {
    cwd: p.root,
    env: childEnv({}),
    stdin: true,
  });
  const line = await child.waitForLine((l) => /^http:\/\/127\.0\.0\.1:\d+/.test(l), 30_000);
  const url = line.trim().replace(/\/+$/, '');
  assertLocal(url);
  return { child, url };
}

/**
 * The telemetry section's bystander (telemetry-bystander.ts) in its own process, exporting to
 * `sinkUrl`; resolves once it is ready for its rate.
 */
export async function startTelemetryBystander(p: BenchPaths, sinkUrl: string): Promise<Child> {
  const child = startChild('telemetry-bystander', process.execPath, ['--import', 'tsx', path.join(p.benchDir, 'telemetry-bystander.ts'), sinkUrl], {
    cwd: p.root,
    env: childEnv({}),
    stdin: true,
  });
  await child.waitForLine((l) => l === 'ready', 30_000);
  return child;
}

export async function setBehaviour(upstream: Child, behaviour: { streamChunks?: number } | null): Promise<void> {
  const reply = upstream.waitForLine((l) => l === 'ok' || l.startsWith('error '), 5000);
  upstream.writeLine(JSON.stringify({ behaviour }));
  const line = await reply;
  if (line !== 'ok') throw new Error(`upstream setBehaviour failed: ${line}`);
}

/** The path of the last request the fake received (which of its provider's APIs a gateway called). */
export async function lastUpstreamPath(upstream: Child): Promise<string> {
  const reply = upstream.waitForLine((l) => l.startsWith('path ') || l.startsWith('error '), 5000);
  upstream.writeLine(JSON.stringify({ lastPath: true }));
  const line = await reply;
  if (!line.startsWith('path ')) throw new Error(`upstream lastPath failed: ${line}`);
  return line.slice('path '.length);
}

/** Bundled to plain JS so the floor runs on bare `node`, exactly like the gateway's dist bundle. */
export async function bundleBareProxy(p: BenchPaths): Promise<string> {
  const outfile = path.join(p.outDir, 'bare-proxy.mjs');
  await build({
    entryPoints: [path.join(p.benchDir, 'bare-proxy.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'warning',
  });
  await stopEsbuild();
  return outfile;
}

export async function startFloor(bundle: string, upstreamUrl: string): Promise<{ child: Child; port: number }> {
  const origin = new URL(upstreamUrl).origin;
  const child = startChild('floor', process.execPath, [bundle], { env: childEnv({ UPSTREAM_ORIGIN: origin, PORT: '0' }), stdin: true });
  const line = await child.waitForLine((l) => l.startsWith('listening '), 10_000);
  return { child, port: Number(line.split(' ')[1]) };
}

/** How a gateway process runs: its LOG_LEVEL (the bench's default: error) and where its stdout goes. */
export interface GatewayRun {
  logLevel?: 'error' | 'info';
  /** Stdout to this file instead of a pipe the bench reads (see startChild). */
  stdoutFile?: string;
  name?: string;
}

export function spawnGateway(p: BenchPaths, entry: string, port: number, upstreamUrl: string, upstreamKey: string, run: GatewayRun = {}): Child {
  return spawnGatewayWithEnv(p, entry, port, { OPENAI_BASE_URL: upstreamUrl, OPENAI_API_KEY: upstreamKey }, run.name, run);
}

/** A gateway configured only by `providerEnv` (provider URLs and keys) on top of the bench's fixed settings. */
export function spawnGatewayWithEnv(
  p: BenchPaths,
  entry: string,
  port: number,
  providerEnv: Record<string, string>,
  name = 'gateway',
  run: GatewayRun = {},
): Child {
  return startChild(name, process.execPath, [entry], {
    cwd: p.root,
    env: childEnv({ ...providerEnv, PORT: String(port), LOG_LEVEL: run.logLevel ?? 'error' }),
    stdoutFile: run.stdoutFile,
  });
}

export async function waitHealthy(child: Child, baseUrl: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (!child.isRunning()) throw new Error(`${child.name} exited before becoming healthy\n${child.tail()}`);
    try {
      const r = await request(`${baseUrl}/health`, { method: 'GET', timeoutMs: 2000 });
      if (r.status === 200) return;
      last = `status ${r.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(50);
  }
  throw new Error(`${child.name} not healthy within ${timeoutMs} ms (${last})\n${child.tail()}`);
}

export async function ensureGatewayBuilt(p: BenchPaths, entry: string): Promise<void> {
  if (existsSync(entry)) return;
  console.log(`${path.relative(p.root, entry)} missing: running npm run build`);
  const r = await runCommand('npm run build', 'npm', ['run', 'build'], process.env, 5 * 60_000);
  if (r.code !== 0 || !existsSync(entry)) throw new Error(`npm run build failed (exit ${r.code}):\n${r.output}`);
}
