// CDK app: `npx cdk synth` / `npx cdk deploy`. Settings come from context (cdk.json or
// `-c defaultProvider=openai`); provider keys from the deploying shell's environment.
import { App } from 'aws-cdk-lib';
import { AiGatewayStack, PROVIDER_KEY_VARIABLES, propsFromContext } from '../lib/ai-gateway-stack';

const app = new App();

new AiGatewayStack(app, 'AiGateway', {
  description: 'OpenAI-compatible LLM gateway (chat function URL with response streaming)',
  ...propsFromContext(app.node),
  providerKeys: Object.fromEntries(PROVIDER_KEY_VARIABLES.flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : []))),
  // No `env`: the stack needs no lookups, so it stays environment-agnostic and deploys to the
  // CLI profile's account and region.
});
