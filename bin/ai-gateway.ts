// CDK app: `npx cdk synth` / `npx cdk deploy`. Settings come from context (cdk.json or
// `-c defaultProvider=openai`), the alert e-mail also from the AlertEmail stack parameter.
// Provider keys never pass through here: they go into the provider secret after deploy.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AiGatewayStack } from '../lib/ai-gateway-stack';
import { edgeWafFromContext } from '../lib/edge-settings';
import { EDGE_WAF_REGION, EdgeWafStack } from '../lib/edge-waf-stack';
import { SettingsError, settingsFromContext } from '../lib/settings';

const app = new App();

try {
  new AiGatewayStack(app, 'AiGateway', {
    description: 'OpenAI-compatible LLM gateway: streaming chat function URL, admin and usage API, cost pipeline, alerts, dashboard',
    ...settingsFromContext(app.node),
    // No `env`: the stack needs no lookups, so it stays environment-agnostic and deploys to the
    // CLI profile's account and region.
  });
  const waf = edgeWafFromContext((key) => app.node.tryGetContext(key) ?? undefined);
  if (waf) {
    // Only with context edgeWaf=true: `npx cdk deploy AiGatewayEdgeWaf -c edgeWaf=true`.
    new EdgeWafStack(app, 'AiGatewayEdgeWaf', {
      description: 'AI gateway edge: AWS WAF web ACL for the CloudFront distribution (rate limit, address allowlist)',
      env: { region: EDGE_WAF_REGION },
      waf,
    });
  }
} catch (err) {
  // A bad context value is the user's to fix: one line naming the key, not a stack trace.
  if (!(err instanceof SettingsError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}

// AWS Solutions checks run on every synth; an unacknowledged finding fails it.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
