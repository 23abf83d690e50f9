// Bad context values as a user meets them: `npx cdk synth -c key=value` through the CDK CLI and
// cdk.json, in a child process. Each fails with one line naming the context key (never the
// functions' environment variable) and no stack trace; the shipped example routing file synthesizes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../lib/constructs/gateway-function';
import { REDIS, resourceId, synth, type CfnResource } from './synth';

let workdir: string;
beforeAll(() => {
  workdir = mkdtempSync(join(tmpdir(), 'ai-gateway-context-'));
});
afterAll(() => rmSync(workdir, { recursive: true, force: true }));

/** `npx cdk synth` with these context values, offline and without credentials. */
function cdkSynth(context: Record<string, string>): { status: number | null; stderr: string; stdout: string } {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_') && !k.startsWith('CDK_')) env[k] = v;
  const args = ['cdk', 'synth', '--no-notices', '--quiet', '--output', join(workdir, 'cdk.out')];
  for (const [key, value] of Object.entries(context)) args.push('-c', `${key}=${value}`);
  const run = spawnSync('npx', args, {
    cwd: PROJECT_ROOT,
    // A fresh HOME has no npm cache, so npm would print its update notice: keep it quiet.
    env: {
      ...env,
      HOME: workdir,
      npm_config_update_notifier: 'false',
      AWS_EC2_METADATA_DISABLED: 'true',
      CDK_DISABLE_CLI_TELEMETRY: 'true',
      CDK_DISABLE_VERSION_CHECK: 'true',
    },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: run.status, stderr: run.stderr, stdout: run.stdout };
}

function expectRefusal(context: Record<string, string>, message: string | RegExp): void {
  const run = cdkSynth(context);
  expect(run.status).toBe(1);
  // The app's line, then the CLI's own note that the app exited with 1; nothing else.
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(2);
  if (typeof message === 'string') expect(lines[0]).toBe(message);
  else expect(lines[0]).toMatch(message);
  expect(lines[1]).toMatch(/Subprocess exited with error 1$/);
  expect(run.stderr).not.toMatch(/^\s+at /m);
  expect(run.stdout).toBe('');
}

test('the default provider must be reachable from Lambda: Ollama needs an address, and no provider may sit on localhost', () => {
  expectRefusal(
    { defaultProvider: 'ollama' },
    'AiGateway: context defaultProvider is "ollama", but no ollamaBaseUrl is set: ' +
      "Ollama's default address (http://localhost:11434) is the Lambda's own host. " +
      'Set context ollamaBaseUrl to an Ollama server the function can reach, or choose openai, anthropic or bedrock',
  );
  // The rest in process: the same SettingsError, whose message is the line the CLI prints.
  expect(() => synth({ defaultProvider: 'openai', openaiBaseUrl: 'http://127.0.0.1:8000/v1' })).toThrow(
    'AiGateway: context defaultProvider is "openai", whose address http://127.0.0.1:8000/v1 (context openaiBaseUrl) is the Lambda\'s own host: give an address the function can reach',
  );
  expect(() => synth({ defaultProvider: 'ollama', ollamaBaseUrl: 'http://10.0.0.5:11434' })).toThrow(
    'AiGateway: context defaultProvider is "ollama", whose address http://10.0.0.5:11434 (context ollamaBaseUrl) is on a private network, ' +
      'and the chat function runs outside any VPC: give a public address (or deploy with the redisVpcId/redisSubnetIds options that place it in your VPC)',
  );
}, 60_000);

test('a named default provider is checked by its own address; a private address is fine inside the VPC', () => {
  const example = join(PROJECT_ROOT, 'config/gateway.example.json');
  expect(() => synth({ gatewayConfigFile: example, defaultProvider: 'ollama-gpu' })).toThrow(
    `AiGateway: context defaultProvider is "ollama-gpu", whose address http://gpu-box:11434 (context gatewayConfigFile (${example}) providers.ollama-gpu.base_url) is on a private network, ` +
      'and the chat function runs outside any VPC: give a public address (or deploy with the redisVpcId/redisSubnetIds options that place it in your VPC)',
  );
  expect(() => synth({ gatewayConfigFile: example, defaultProvider: 'groq' })).not.toThrow();
  expect(() => synth({ ...REDIS, defaultProvider: 'ollama', ollamaBaseUrl: 'http://10.0.0.5:11434' })).not.toThrow();
  expect(() => synth({ ...REDIS, defaultProvider: 'ollama', ollamaBaseUrl: 'http://localhost:11434' })).toThrow(/is the Lambda's own host/);
});

test("values the functions would refuse are named by their context key, not the functions' variable", () => {
  expectRefusal({ tenantDefaultBudgetUsd: 'lots' }, 'AiGateway: context tenantDefaultBudgetUsd must be a number ≥ 0 (0: no budget); got "lots"');
  expectRefusal({ edge: 'akamai' }, 'AiGateway: context edge must be cloudfront or none; got "akamai"');
  expect(() => synth({ defaultProvider: 'nope' })).toThrow('AiGateway: context defaultProvider must be one of openai, anthropic, bedrock, ollama; got "nope"');
  expect(() => synth({ logLevel: 'loud' })).toThrow('AiGateway: context logLevel must be one of debug, info, warn, error; got "loud"');
  expect(() => synth({ logRetentionDays: 'month' })).toThrow(/^AiGateway: context logRetentionDays must be one of 1, 3, 5, .*; got "month"$/);
  expect(() => synth({ alertEmail: 'ops' })).toThrow('AiGateway: context alertEmail must be an e-mail address; got "ops"');
  expect(() => synth({ redisUrl: 'redis://10.0.0.1:6379', redisVpcId: 'vpc-0abc', redisSubnetIds: '[subnet-0a', redisSecurityGroupIds: 'sg-0a' })).toThrow(
    'AiGateway: context redisSubnetIds must be a non-empty list of ids (JSON array or comma-separated)',
  );
}, 60_000);

test('a routing file that is missing or wrong is named with its path and the field at fault', () => {
  expectRefusal(
    { gatewayConfigFile: 'routing.json' },
    `AiGateway: context gatewayConfigFile (routing.json): cannot read the file: ENOENT: no such file or directory, open '${join(PROJECT_ROOT, 'routing.json')}'`,
  );
  const file = join(workdir, 'typo.json');
  writeFileSync(file, JSON.stringify({ routes: { fast: { targets: [{ provider: 'openai', model: 'gpt-4o-mini', wieght: 2 }] } } }));
  expectRefusal(
    { gatewayConfigFile: file },
    `AiGateway: context gatewayConfigFile (${file}): routes.fast.targets[0].wieght is not a known field (known: provider, model, weight)`,
  );
}, 60_000);

test('the example routing file: OpenAI, Anthropic and Bedrock behind two aliases, fallback across all three, Bedrock the default provider', () => {
  const { template } = synth({ gatewayConfigFile: join(PROJECT_ROOT, 'examples/routing.json') });
  const chatId = resourceId(template, 'AWS::Lambda::Function', 'ChatApiChatFunction');
  const chat = ((template.toJSON().Resources[chatId] as CfnResource).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
  expect(chat.DEFAULT_PROVIDER).toBe('bedrock');
  const routing = JSON.parse(chat.GATEWAY_CONFIG_JSON as string) as {
    routes: Record<string, { targets: Array<{ provider: string }> }>;
    fallback_providers: string[];
  };
  for (const alias of ['fast', 'smart']) expect(routing.routes[alias]?.targets.map((t) => t.provider)).toEqual(['openai', 'anthropic', 'bedrock']);
  expect(routing.fallback_providers).toEqual(['openai', 'anthropic', 'bedrock']);
  // No key material: keys live in the provider secret.
  expect(JSON.stringify(routing)).not.toMatch(/api_key|sk-/);
});
