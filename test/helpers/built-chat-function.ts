// The chat function as the stack ships it: the bundle behind its loader (built with the stack's
// esbuild settings, test/helpers/lambda-bundles.ts) and the OTLP exporter beside it (built by the
// stack's own afterBundling commands), invoked once in a fresh Node process that provides the
// runtime's streaming globals.
import { execFile, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../lib/constructs/gateway-function';
import { otelExporterBuild } from '../../lib/constructs/otel-bundle';
import { buildFunction } from './lambda-bundles';
import type { FunctionUrlEvent } from '../../functions/adapters/lambda/function-url';

/** Builds the asset into `dir` (gateway.js, index.js, otel.js) and returns the folder of the loader. */
export async function buildChatAsset(dir: string): Promise<string> {
  const { dir: assetDir } = await buildFunction('functions/chat/handler.ts', join(dir, 'chat'));
  for (const command of otelExporterBuild(PROJECT_ROOT, assetDir)) execFileSync('bash', ['-c', command], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  return assetDir;
}

export interface Invocation {
  status: number;
  body: string;
  /** Files of the asset the process loaded by the time the handler returned. */
  loaded: string[];
}

/** Runs in the fresh process: the streaming globals, the loader, one invocation, then a report. */
const RUNNER = `'use strict';
const { Writable } = require('node:stream');
const { basename, dirname } = require('node:path');
let metadata = {};
globalThis.awslambda = { streamifyResponse: (h) => h, HttpResponseStream: { from: (s, m) => { metadata = m; return s; } } };
const { handler } = require('./index.js');
const chunks = [];
const stream = new Writable({ write(c, _e, cb) { chunks.push(c); cb(); } });
const context = { awsRequestId: 'invocation-1', functionName: 'chat', functionVersion: '$LATEST', memoryLimitInMB: '1024',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:chat', getRemainingTimeInMillis: () => 900000 };
handler(JSON.parse(process.env.INVOCATION_EVENT), stream, context).then(() => {
  const loaded = Object.keys(require.cache).filter((f) => dirname(f) === __dirname).map((f) => basename(f)).sort();
  process.stdout.write('\\nINVOKED ' + JSON.stringify({ status: metadata.statusCode, body: Buffer.concat(chunks).toString('utf8'), loaded }) + '\\n');
  process.exit(0);
}, (err) => { process.stderr.write(String(err && err.stack)); process.exit(1); });
`;

/**
 * Invokes the built function once with `env` (nothing of this process's environment but PATH):
 * resolves when its handler has returned, as Lambda would freeze it then.
 */
export function invokeChatAsset(assetDir: string, env: Record<string, string>, event: FunctionUrlEvent): Promise<Invocation> {
  const runner = join(assetDir, 'invoke.cjs');
  writeFileSync(runner, RUNNER);
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [runner],
      {
        cwd: assetDir,
        // The AWS SDK is the runtime's in Lambda: here, the project's.
        env: { PATH: process.env.PATH ?? '', NODE_PATH: join(PROJECT_ROOT, 'node_modules'), ...env, INVOCATION_EVENT: JSON.stringify(event) },
        timeout: 30_000,
      },
      (err, stdout, stderr) => {
        const line = stdout.split('\n').find((l) => l.startsWith('INVOKED '));
        if (err || !line) {
          reject(new Error(`the function failed: ${err?.message ?? 'no report'}\n${stdout}\n${stderr}`));
          return;
        }
        resolve(JSON.parse(line.slice('INVOKED '.length)) as Invocation);
      },
    );
  });
}
