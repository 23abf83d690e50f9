// The CDK stack as CloudFormation: the chat function, its streaming function URL, logs and
// outputs. Assertions skip bundling; one test bundles for real with the local esbuild.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AiGatewayStack, propsFromContext, type AiGatewayStackProps } from '../../lib/ai-gateway-stack';

const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] as string[] };

/** The stack as bin/ai-gateway.ts builds it, from context, without bundling. */
function synth(context: Record<string, unknown> = {}, extra: Partial<AiGatewayStackProps> = {}): { stack: AiGatewayStack; template: Template } {
  const app = new App({ context: { ...NO_BUNDLING, ...context } });
  const stack = new AiGatewayStack(app, 'AiGateway', { ...propsFromContext(app.node), ...extra });
  return { stack, template: Template.fromStack(stack) };
}

describe('AiGatewayStack', () => {
  const { template } = synth();

  test('one chat function: Node.js 22 on arm64, ESM bundle handler, 15 min, 1024 MB', () => {
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: 900,
      MemorySize: 1024,
      Environment: { Variables: { DEFAULT_PROVIDER: 'ollama', NODE_OPTIONS: '--enable-source-maps', DEFAULT_TENANT_ENABLED: 'false' } },
    });
  });

  test('the function URL streams responses and is public (the gateway checks tenant keys)', () => {
    template.resourceCountIs('AWS::Lambda::Url', 1);
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      InvokeMode: 'RESPONSE_STREAM',
      TargetFunctionArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ChatFunction'), 'Arn'] },
    });
    // Public function URLs need both grants since AWS's October 2025 change.
    template.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunctionUrl', FunctionUrlAuthType: 'NONE', Principal: '*' });
    template.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunction', InvokedViaFunctionUrl: true, Principal: '*' });
  });

  test('logs go to a log group with 30-day retention by default, 14 with context', () => {
    template.resourceCountIs('AWS::Logs::LogGroup', 1);
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    const logGroupId = Object.keys(template.findResources('AWS::Logs::LogGroup'))[0];
    template.hasResourceProperties('AWS::Lambda::Function', { LoggingConfig: { LogGroup: { Ref: logGroupId } } });

    synth({ logRetentionDays: '14' }).template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 14 });
  });

  test('outputs: the gateway URL and the OpenAI SDK base URL (<url>v1)', () => {
    const urlId = Object.keys(template.findResources('AWS::Lambda::Url'))[0];
    const url = { 'Fn::GetAtt': [urlId, 'FunctionUrl'] };
    template.hasOutput('GatewayUrl', { Value: url });
    template.hasOutput('OpenAIBaseUrl', { Value: { 'Fn::Join': ['', [url, 'v1']] } });
  });

  test('context sets the default provider and base URLs; provider keys come with a warning', () => {
    const { stack, template: t } = synth(
      { defaultProvider: 'openai', openaiBaseUrl: 'https://llm.example.com/v1', ollamaBaseUrl: 'http://10.0.0.5:11434' },
      { providerKeys: { OPENAI_API_KEY: 'sk-test' } },
    );
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { DEFAULT_PROVIDER: 'openai', OPENAI_BASE_URL: 'https://llm.example.com/v1', OLLAMA_BASE_URL: 'http://10.0.0.5:11434', OPENAI_API_KEY: 'sk-test' } },
    });
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('OPENAI_API_KEY set as plain environment variables'));
    // Without keys, none of that.
    const plain = synth();
    const fn = Object.values(plain.template.findResources('AWS::Lambda::Function'))[0] as { Properties: { Environment: { Variables: Record<string, string> } } };
    expect(Object.keys(fn.Properties.Environment.Variables).sort()).toEqual(['DEFAULT_PROVIDER', 'DEFAULT_TENANT_ENABLED', 'NODE_OPTIONS']);
    expect(Annotations.fromStack(plain.stack).findWarning('*', Match.anyValue())).toEqual([]);
  });

  test('bad settings fail the synth with the setting named', () => {
    expect(() => synth({ defaultProvider: 'nope' })).toThrow(/DEFAULT_PROVIDER must be one of/);
    expect(() => synth({ openaiBaseUrl: 'ftp://x' })).toThrow(/OPENAI_BASE_URL must use http or https/);
    expect(() => synth({ logRetentionDays: '31' })).toThrow(/logRetentionDays must be one of/);
  });

  test('nothing beyond the chat function yet (no tables, queues, topics, APIs, secrets)', () => {
    const allowed = ['AWS::CDK::Metadata', 'AWS::IAM::Role', 'AWS::Lambda::Function', 'AWS::Lambda::Permission', 'AWS::Lambda::Url', 'AWS::Logs::LogGroup'];
    const types = Object.values(template.toJSON().Resources as Record<string, { Type: string }>).map((r) => r.Type);
    expect(types.filter((t) => !allowed.includes(t))).toEqual([]);
  });
});

describe('AiGatewayStack bundling (local esbuild)', () => {
  let outdir: string;
  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), 'ai-gateway-cdk-'));
  });
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  test('synth bundles the handler to a minified ESM index.mjs under 300 KB, with a source map', () => {
    const app = new App({ outdir });
    const stack = new AiGatewayStack(app, 'AiGateway');
    app.synth();
    const key = (Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))[0] as { Properties: { Code: { S3Key: string } } }).Properties.Code.S3Key;
    const assetDir = join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
    expect(readdirSync(assetDir).sort()).toEqual(['index.mjs', 'index.mjs.map']);

    const file = join(assetDir, 'index.mjs');
    const code = readFileSync(file, 'utf8');
    expect(statSync(file).size).toBeLessThan(300 * 1024);
    // Boolean checks: a failing toMatch would print the whole bundle.
    expect(code.startsWith("import { createRequire } from 'module';const require = createRequire(import.meta.url);")).toBe(true);
    expect(/export\s*\{[^}]*\bhandler\b[^}]*\}/.test(code)).toBe(true); // ESM, exporting the handler
    // Minified: a few hundred bytes per line on average, not source-like short lines.
    expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
    // The AWS SDK comes from the runtime: the bundle only imports it, it does not contain it.
    expect(/from\s*"@aws-sdk\/client-bedrock-runtime"/.test(code)).toBe(true);
    expect(/from\s*"@smithy\/node-http-handler"/.test(code)).toBe(true);
    expect(code.includes('class NodeHttpHandler')).toBe(false);
    expect(code.trimEnd().endsWith('//# sourceMappingURL=index.mjs.map')).toBe(true); // what --enable-source-maps follows
  });
});
