// The edge's AWS WAF web ACL, in a stack of its own: a web ACL for CloudFront (scope CLOUDFRONT)
// can only be created in us-east-1, while the gateway's stack deploys to any region. Deployed
// first (context edgeWaf=true), its WebAclArn output goes to the gateway stack as edgeWebAclArn.
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { CfnIPSet, CfnWebACL } from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';
import { isIpv4Cidr, type EdgeWafSettings } from './edge-settings';

export type EdgeWafStackProps = StackProps & { waf: EdgeWafSettings };

/** The only region a CLOUDFRONT-scope web ACL can live in. */
export const EDGE_WAF_REGION = 'us-east-1';

export class EdgeWafStack extends Stack {
  readonly webAcl: CfnWebACL;

  constructor(scope: Construct, id: string, props: EdgeWafStackProps) {
    super(scope, id, props);
    const { rateLimit, allowedIps } = props.waf;
    const visibility = (metricName: string): CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      metricName,
      sampledRequestsEnabled: true,
    });

    const rules: CfnWebACL.RuleProperty[] = [
      {
        // First, so an allowed address is still held to the rate.
        name: 'RatePerClientAddress',
        priority: 0,
        action: { block: {} },
        statement: { rateBasedStatement: { aggregateKeyType: 'IP', limit: rateLimit, evaluationWindowSec: 300 } },
        visibilityConfig: visibility('AiGatewayEdgeRate'),
      },
    ];
    if (allowedIps) {
      // One IP set per address version, as WAF requires; the rule allows either.
      const sets = (['IPV4', 'IPV6'] as const)
        .map((version) => ({ version, addresses: allowedIps.filter((c) => isIpv4Cidr(c) === (version === 'IPV4')) }))
        .filter((s) => s.addresses.length > 0)
        .map(
          ({ version, addresses }) =>
            new CfnIPSet(this, `Allowed${version}`, { scope: 'CLOUDFRONT', ipAddressVersion: version, addresses, description: 'AI gateway edge allowlist' }),
        );
      const references = sets.map((set) => ({ ipSetReferenceStatement: { arn: set.attrArn } }));
      rules.push({
        name: 'AllowListedAddresses',
        priority: 1,
        action: { allow: {} },
        statement: references.length === 1 ? (references[0] as CfnWebACL.StatementProperty) : { orStatement: { statements: references } },
        visibilityConfig: visibility('AiGatewayEdgeAllowlist'),
      });
    }

    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      scope: 'CLOUDFRONT',
      description: 'AI gateway edge: a request rate per client address' + (allowedIps ? ' and an address allowlist' : ''),
      // With an allowlist, whatever it does not allow is blocked.
      defaultAction: allowedIps ? { block: {} } : { allow: {} },
      rules,
      visibilityConfig: visibility('AiGatewayEdge'),
    });
    new CfnOutput(this, 'WebAclArn', { value: this.webAcl.attrArn, description: 'Give it to the gateway stack: -c edgeWebAclArn=<this>' });
  }
}
