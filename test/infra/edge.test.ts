// The protected edge options as CloudFormation: CloudFront in front of the chat function URL with
// origin access control (edge=cloudfront), a web ACL attached to it (edgeWebAclArn), the web ACL's
// own us-east-1 stack (edgeWaf), and the admin API's address allowlist (adminAllowedIps). Each
// option is checked for what it builds, for what it leaves public, and by cdk-nag.
import { runInNewContext } from 'node:vm';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { KEEP_VIEWER_AUTHORIZATION } from '../../lib/constructs/edge';
import { edgeWafFromContext } from '../../lib/edge-settings';
import { EDGE_WAF_REGION, EdgeWafStack } from '../../lib/edge-waf-stack';
import { resourceId, synth, type CfnResource } from './synth';

const WEB_ACL_ARN = 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/ai-gateway-edge/0123abcd-0123-4567-89ab-0123456789ab';
/** CloudFront's managed policies, by their documented ids. */
const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
const ALL_VIEWER_EXCEPT_HOST_HEADER = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';

function findings(app: App, scope: IConstruct): string[] {
  const report = new AwsSolutionsChecks(app).validateScope(scope);
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.resourceLogicalId}`));
}

const resources = (t: Template, type: string): CfnResource[] => Object.values(t.findResources(type)) as CfnResource[];

describe('edge=cloudfront', () => {
  const edged = synth({ edge: 'cloudfront' });
  const t = edged.template;
  const distribution = (template: Template): Record<string, unknown> =>
    (resources(template, 'AWS::CloudFront::Distribution')[0] as CfnResource).Properties.DistributionConfig as Record<string, unknown>;
  const chatFunction = { 'Fn::GetAtt': [resourceId(t, 'AWS::Lambda::Url', 'ChatApiChatFunction'), 'FunctionArn'] };
  const distributionArn = {
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        ':cloudfront::',
        { Ref: 'AWS::AccountId' },
        ':distribution/',
        { Ref: resourceId(t, 'AWS::CloudFront::Distribution', 'EdgeDistribution') },
      ],
    ],
  };

  test('the function URL takes only IAM-signed requests, still streaming, and only this distribution may invoke it', () => {
    t.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM', InvokeMode: 'RESPONSE_STREAM' });
    // No public invoke permission (auth NONE adds one for principal "*").
    for (const p of resources(t, 'AWS::Lambda::Permission')) expect(p.Properties.Principal).not.toBe('*');
    t.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunctionUrl',
      Principal: 'cloudfront.amazonaws.com',
      FunctionName: chatFunction,
      SourceArn: distributionArn,
    });
    t.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'cloudfront.amazonaws.com',
      FunctionName: chatFunction,
      SourceArn: distributionArn,
      InvokedViaFunctionUrl: true,
    });
    t.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: { OriginAccessControlOriginType: 'lambda', SigningBehavior: 'always', SigningProtocol: 'sigv4' },
    });
    // Without the option the URL stays public, as before.
    synth().template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE', InvokeMode: 'RESPONSE_STREAM' });
    synth().template.resourceCountIs('AWS::CloudFront::Distribution', 0);
  });

  test('the API passes through uncached: every method, every viewer header but Host, no compression, HTTPS only, 60 s origin timeout', () => {
    const config = distribution(t);
    expect(config.DefaultCacheBehavior).toMatchObject({
      AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
      CachePolicyId: CACHING_DISABLED,
      OriginRequestPolicyId: ALL_VIEWER_EXCEPT_HOST_HEADER,
      Compress: false,
      ViewerProtocolPolicy: 'https-only',
      FunctionAssociations: [
        {
          EventType: 'viewer-request',
          FunctionARN: { 'Fn::GetAtt': [resourceId(t, 'AWS::CloudFront::Function', 'EdgeKeepViewerAuthorization'), 'FunctionARN'] },
        },
      ],
    });
    expect(config.Origins).toEqual([
      expect.objectContaining({
        CustomOriginConfig: expect.objectContaining({ OriginProtocolPolicy: 'https-only', OriginReadTimeout: 60 }),
        OriginAccessControlId: { 'Fn::GetAtt': [resourceId(t, 'AWS::CloudFront::OriginAccessControl', 'EdgeDistribution'), 'Id'] },
      }),
    ]);
    expect(config.WebACLId).toBeUndefined();
    expect(config.HttpVersion).toBe('http2and3');
    const longer = distribution(synth({ edge: 'cloudfront', edgeOriginTimeout: '120', edgeWebAclArn: WEB_ACL_ARN }).template);
    expect((longer.Origins as Array<{ CustomOriginConfig: { OriginReadTimeout: number } }>)[0]?.CustomOriginConfig.OriginReadTimeout).toBe(120);
    expect(longer.WebACLId).toBe(WEB_ACL_ARN);
  });

  test("the viewer-request function keeps the client's Authorization in x-viewer-authorization, and only that", () => {
    t.hasResourceProperties('AWS::CloudFront::Function', {
      FunctionCode: KEEP_VIEWER_AUTHORIZATION,
      FunctionConfig: Match.objectLike({ Runtime: 'cloudfront-js-2.0' }),
    });
    type Headers = Record<string, { value: string }>;
    const run = (headers: Headers): Headers => {
      const event = { request: { method: 'POST', uri: '/v1/chat/completions', headers } };
      return (runInNewContext(`${KEEP_VIEWER_AUTHORIZATION}\nhandler(event)`, { event }) as { headers: Headers }).headers;
    };
    expect(run({ authorization: { value: 'Bearer gw-tenant' } })['x-viewer-authorization']).toEqual({ value: 'Bearer gw-tenant' });
    // A value the client put there itself never survives: replaced by its Authorization, or removed.
    expect(run({ authorization: { value: 'Bearer gw-a' }, 'x-viewer-authorization': { value: 'Bearer gw-b' } })['x-viewer-authorization']).toEqual({
      value: 'Bearer gw-a',
    });
    expect(run({ 'x-viewer-authorization': { value: 'Bearer gw-b' } })['x-viewer-authorization']).toBeUndefined();
  });

  test('outputs: GatewayUrl and OpenAIBaseUrl point at the distribution; its id and the bare function URL are listed', () => {
    const domain = { 'Fn::GetAtt': [resourceId(t, 'AWS::CloudFront::Distribution', 'EdgeDistribution'), 'DomainName'] };
    t.hasOutput('GatewayUrl', { Value: { 'Fn::Join': ['', ['https://', domain, '/']] } });
    t.hasOutput('OpenAIBaseUrl', { Value: { 'Fn::Join': ['', ['https://', domain, '/v1']] } });
    t.hasOutput('EdgeDistributionId', { Value: { Ref: resourceId(t, 'AWS::CloudFront::Distribution', 'EdgeDistribution') } });
    t.hasOutput('ChatFunctionUrl', { Value: { 'Fn::GetAtt': [resourceId(t, 'AWS::Lambda::Url', 'ChatApiChatFunction'), 'FunctionUrl'] } });
  });

  test('cdk-nag: clean, with the web ACL attached too', () => {
    expect(findings(edged.app, edged.stack)).toEqual([]);
    const withAcl = synth({ edge: 'cloudfront', edgeWebAclArn: WEB_ACL_ARN, adminAllowedIps: '203.0.113.0/24' });
    expect(findings(withAcl.app, withAcl.stack)).toEqual([]);
  });
});

describe('adminAllowedIps', () => {
  const { app, stack, template: t } = synth({ adminAllowedIps: '203.0.113.0/24, 2001:db8::/32,198.51.100.7' });

  test('an address authorizer guards /admin/* (cached per address for 5 minutes); /v1/usage stays open to tenants', () => {
    const fnId = resourceId(t, 'AWS::Lambda::Function', 'AdminApiAdminAllowlistFunction');
    const fn = t.toJSON().Resources[fnId] as CfnResource;
    expect((fn.Properties.Environment as { Variables: Record<string, string> }).Variables.ADMIN_ALLOWED_IPS).toBe(
      '203.0.113.0/24,2001:db8::/32,198.51.100.7/32',
    );
    t.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      IdentitySource: ['$context.identity.sourceIp'],
      AuthorizerResultTtlInSeconds: 300,
    });
    const authorizer = { Ref: resourceId(t, 'AWS::ApiGatewayV2::Authorizer', 'AdminApiHttpApiAdminAllowlist') };
    t.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'ANY /admin/{proxy+}', AuthorizationType: 'CUSTOM', AuthorizerId: authorizer });
    t.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'GET /v1/usage', AuthorizationType: 'NONE', AuthorizerId: Match.absent() });
    synth().template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
    expect(findings(app, stack)).toEqual([]);
  });
});

describe('the edge web ACL stack (edgeWaf=true)', () => {
  const wafStack = (context: Record<string, string>): { app: App; stack: EdgeWafStack; template: Template } => {
    const app = new App();
    const waf = edgeWafFromContext((key) => context[key]);
    if (!waf) throw new Error('edgeWaf is off');
    const stack = new EdgeWafStack(app, 'AiGatewayEdgeWaf', { env: { region: EDGE_WAF_REGION }, waf });
    return { app, stack, template: Template.fromStack(stack) };
  };

  test('in us-east-1, scope CLOUDFRONT: a rate-based block per client address, everyone else allowed; its ARN is the output', () => {
    const { app, stack, template: t } = wafStack({ edgeWaf: 'true' });
    expect(stack.region).toBe('us-east-1');
    t.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'CLOUDFRONT',
      DefaultAction: { Allow: {} },
      Rules: [
        Match.objectLike({
          Name: 'RatePerClientAddress',
          Priority: 0,
          Action: { Block: {} },
          Statement: { RateBasedStatement: { AggregateKeyType: 'IP', Limit: 3000, EvaluationWindowSec: 300 } },
        }),
      ],
    });
    t.resourceCountIs('AWS::WAFv2::IPSet', 0);
    t.hasOutput('WebAclArn', { Value: { 'Fn::GetAtt': [resourceId(t, 'AWS::WAFv2::WebACL', 'WebAcl'), 'Arn'] } });
    expect(findings(app, stack)).toEqual([]);
  });

  test('with an allowlist: one IP set per address version, allowed after the rate rule, everything else blocked', () => {
    const { template: t } = wafStack({ edgeWaf: 'true', edgeRateLimit: '600', edgeAllowedIps: '["203.0.113.0/24","2001:db8::/32"]' });
    t.hasResourceProperties('AWS::WAFv2::IPSet', { Scope: 'CLOUDFRONT', IPAddressVersion: 'IPV4', Addresses: ['203.0.113.0/24'] });
    t.hasResourceProperties('AWS::WAFv2::IPSet', { Scope: 'CLOUDFRONT', IPAddressVersion: 'IPV6', Addresses: ['2001:db8::/32'] });
    const ipSet = (version: string): unknown => ({
      IPSetReferenceStatement: { Arn: { 'Fn::GetAtt': [resourceId(t, 'AWS::WAFv2::IPSet', `Allowed${version}`), 'Arn'] } },
    });
    t.hasResourceProperties('AWS::WAFv2::WebACL', {
      DefaultAction: { Block: {} },
      Rules: [
        Match.objectLike({ Priority: 0, Statement: { RateBasedStatement: Match.objectLike({ Limit: 600 }) } }),
        Match.objectLike({
          Name: 'AllowListedAddresses',
          Priority: 1,
          Action: { Allow: {} },
          Statement: { OrStatement: { Statements: [ipSet('IPV4'), ipSet('IPV6')] } },
        }),
      ],
    });
  });
});

test('bad edge context values fail with the context key named', () => {
  expect(() => synth({ edge: 'akamai' })).toThrow('AiGateway: context edge must be cloudfront or none; got "akamai"');
  expect(() => synth({ edgeWebAclArn: WEB_ACL_ARN })).toThrow('AiGateway: context edgeWebAclArn and edgeOriginTimeout need edge=cloudfront');
  expect(() =>
    synth({ edge: 'cloudfront', edgeWebAclArn: 'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/x/0123abcd-0123-4567-89ab-0123456789ab' }),
  ).toThrow(/^AiGateway: context edgeWebAclArn must be the ARN of a web ACL with scope CLOUDFRONT/);
  expect(() => synth({ edge: 'cloudfront', edgeOriginTimeout: '600' })).toThrow(
    'AiGateway: context edgeOriginTimeout must be a whole number from 1 to 180; got "600"',
  );
  expect(() => synth({ adminAllowedIps: '203.0.113.0/33' })).toThrow(
    'AiGateway: context adminAllowedIps must be a list of CIDRs such as 203.0.113.0/24 or 2001:db8::/32; got "203.0.113.0/33"',
  );
  expect(() => edgeWafFromContext((key) => ({ edgeRateLimit: '5' })[key])).toThrow('AiGateway: context edgeRateLimit and edgeAllowedIps need edgeWaf=true');
  expect(() => edgeWafFromContext((key) => ({ edgeWaf: 'true', edgeRateLimit: '5' })[key])).toThrow(
    'AiGateway: context edgeRateLimit must be a whole number from 10 to 2000000000; got "5"',
  );
});
