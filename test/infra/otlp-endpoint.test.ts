// The `otlpEndpoint` context value: the chat function's OTLP_ENDPOINT (its spans exported to that
// collector), validated at synth with a one-line error naming the key.
import type { Template } from 'aws-cdk-lib/assertions';
import { resourceId, synth, type CfnResource } from './synth';

const FUNCTIONS = ['ChatApiChat', 'AdminApiAdmin', 'AdminApiUsage', 'CostPipelineAggregator'] as const;

const variablesOf = (template: Template, prefix: string): Record<string, unknown> => {
  const fn = template.toJSON().Resources[resourceId(template, 'AWS::Lambda::Function', prefix)] as CfnResource;
  return (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
};

test('otlpEndpoint reaches the chat function only, as OTLP_ENDPOINT, with a short export timeout (an invocation waits for it)', () => {
  const { template } = synth({ otlpEndpoint: 'https://collector.example.com:4318' });
  expect(variablesOf(template, 'ChatApiChat')).toMatchObject({ OTLP_ENDPOINT: 'https://collector.example.com:4318', OTEL_EXPORTER_OTLP_TIMEOUT: '2000' });
  for (const prefix of FUNCTIONS.slice(1)) expect(variablesOf(template, prefix).OTLP_ENDPOINT).toBeUndefined();
});

test('without it the chat function exports nothing over OTLP', () => {
  expect(variablesOf(synth().template, 'ChatApiChat').OTLP_ENDPOINT).toBeUndefined();
});

test.each(['collector:4318', 'grpc://collector:4317', 'not a url'])('otlpEndpoint %p fails the synth in one line naming the key', (value) => {
  let message = '';
  try {
    synth({ otlpEndpoint: value });
  } catch (err) {
    message = (err as Error).message;
  }
  expect(message).toMatch(/^AiGateway: context otlpEndpoint must be an http\(s\) URL/);
  expect(message).toContain(value);
  expect(message).not.toContain('\n');
});
