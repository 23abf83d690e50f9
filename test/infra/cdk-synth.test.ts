// `npx cdk synth` as a platform engineer runs it from a fresh clone: through the CDK CLI and
// cdk.json, offline, with no AWS credentials or config, bundling every function with the local
// esbuild and running the cdk-nag checks bin/ai-gateway.ts registers (a finding fails the synth).
// One CLI run; its cloud assembly is then inspected.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../lib/constructs/gateway-function';
import { ENTRIES, missingEntries, type CfnResource } from './synth';

/** The deploying shell, minus anything that could reach AWS or find credentials. */
function offlineEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_') && !k.startsWith('CDK_')) env[k] = v;
  return {
    ...env,
    HOME: home, // no ~/.aws, no ~/.cdk.json from the machine
    AWS_CONFIG_FILE: join(home, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true', // never the instance metadata endpoint
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    CDK_DISABLE_VERSION_CHECK: 'true',
  };
}

let workdir: string;
afterAll(() => {
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

test('npx cdk synth: offline, no credentials, all four functions bundled, cdk-nag clean', () => {
  expect(missingEntries()).toEqual([]);
  workdir = mkdtempSync(join(tmpdir(), 'ai-gateway-synth-'));
  const outdir = join(workdir, 'cdk.out');
  const run = spawnSync('npx', ['cdk', 'synth', '--no-notices', '--quiet', '--output', outdir], {
    cwd: PROJECT_ROOT,
    env: offlineEnv(workdir),
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (run.status !== 0) throw new Error(`cdk synth failed (${run.status}):\n${run.stdout}\n${run.stderr}`);

  const template = JSON.parse(readFileSync(join(outdir, 'AiGateway.template.json'), 'utf8')) as { Resources: Record<string, CfnResource> };
  const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as { pluginReports: unknown[] };
  expect(report.pluginReports).toEqual([]); // cdk-nag ran and found nothing unacknowledged

  const functions = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
  expect(functions).toHaveLength(ENTRIES.length);
  const sizes: Record<string, number> = {};
  for (const [id, fn] of functions) {
    const key = (fn.Properties.Code as { S3Key: string }).S3Key;
    const assetDir = join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
    expect(existsSync(assetDir)).toBe(true);
    // The admin function also carries the built console, which it serves at /console/; the chat
    // function carries the OTLP exporter, loaded only when OTLP_ENDPOINT is set.
    const consoleDir = id.startsWith('AdminApiAdminFunction') ? ['console'] : [];
    const exporter = id.startsWith('ChatApiChatFunction') ? ['otel.js', 'otel.js.map'] : [];
    expect(readdirSync(assetDir).sort()).toEqual([...consoleDir, 'gateway.js', 'index.js', 'index.js.map', ...exporter]);
    if (consoleDir.length > 0) expect(existsSync(join(assetDir, 'console', 'index.html'))).toBe(true);
    // index.js only loads the bundle (the runtime's import() then scans three lines, not the bundle).
    expect(readFileSync(join(assetDir, 'index.js'), 'utf8')).toBe(
      '"use strict";\nconst gateway = require("./gateway.js");\nexports.handler = gateway.handler;\n',
    );
    const file = join(assetDir, 'gateway.js');
    const code = readFileSync(file, 'utf8');
    sizes[id] = statSync(file).size;
    // Boolean checks: a failing toMatch would print the whole bundle.
    expect(code.startsWith('"use strict";')).toBe(true); // CommonJS
    expect(/module\.exports\s*=/.test(code)).toBe(true); // exporting the handler
    expect(code.trimEnd().endsWith('//# sourceMappingURL=index.js.map')).toBe(true); // what --enable-source-maps follows
    // The AWS SDK comes from the runtime: bundles may import it, never contain it.
    expect(code.includes('class NodeHttpHandler')).toBe(false);
    // ...through require(), which finds the runtime's packages (NODE_PATH); nothing else from outside.
    expect(/\bimport\("@aws-sdk\//.test(code)).toBe(false);
    expect(/require\("@smithy\//.test(code)).toBe(false);
  }

  const chatId = functions.map(([id]) => id).find((id) => id.startsWith('ChatApiChatFunction')) as string;
  const chat = readFileSync(
    join(outdir, `asset.${(template.Resources[chatId]!.Properties.Code as { S3Key: string }).S3Key.replace(/\.zip$/, '')}`, 'gateway.js'),
    'utf8',
  );
  // The target for the chat bundle; cold start grows with bundle size.
  expect(sizes[chatId]).toBeLessThan(500 * 1024);
  // Minified: a few hundred bytes per line on average, not source-like short lines.
  expect(chat.length / chat.split('\n').length).toBeGreaterThan(1000);
  // Nothing of the OpenTelemetry SDK (its exporters' user agent marks it) in the chat bundle.
  expect(chat.includes('OTel-OTLP-Exporter-JavaScript')).toBe(false);
  // The SDK clients are required where first used, not at the top (so not loaded at cold start).
  expect(/require\("@aws-sdk\/client-bedrock-runtime"\)/.test(chat)).toBe(true);
}, 180_000);
