// OTLP export settings from the environment: the seed's OTLP_ENDPOINT and OpenTelemetry's standard
// variables, which wins, and each refusal naming the variable (never a header's value).
import { ConfigError } from '../../functions/config';
import { loadOtlpSettings } from '../../functions/config/otlp';

const refusal = (env: Record<string, string>): string => {
  try {
    loadOtlpSettings(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a refusal');
};

describe('OTLP export settings', () => {
  test('no endpoint: nothing is exported', () => {
    expect(loadOtlpSettings({})).toEqual({});
  });

  test("OTLP_ENDPOINT is the collector's base URL; the defaults follow OpenTelemetry's", () => {
    expect(loadOtlpSettings({ OTLP_ENDPOINT: 'http://collector:4318/' }).otlp).toEqual({
      tracesUrl: 'http://collector:4318/v1/traces',
      metricsUrl: 'http://collector:4318/v1/metrics',
      protocol: 'http/protobuf',
      headers: {},
      serviceName: 'ai-gateway',
      resourceAttributes: {},
      sampler: { name: 'parentbased_always_on', ratio: 1 },
      timeoutMs: 10_000,
    });
  });

  test('the standard variables win over the seed name, and a signal endpoint over both', () => {
    const otlp = loadOtlpSettings({
      OTLP_ENDPOINT: 'http://seed:4318',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://standard:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/ingest',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_HEADERS: 'api-key=s%3Dcret,x-team=ml',
      OTEL_SERVICE_NAME: 'gateway-eu',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_EXPORTER_OTLP_TIMEOUT: '2000',
    }).otlp;
    expect(otlp).toMatchObject({
      tracesUrl: 'https://traces.example/ingest',
      metricsUrl: 'http://standard:4318/v1/metrics',
      protocol: 'http/json',
      headers: { 'api-key': 's=cret', 'x-team': 'ml' },
      serviceName: 'gateway-eu',
      resourceAttributes: { 'deployment.environment.name': 'prod' },
      sampler: { name: 'parentbased_traceidratio', ratio: 0.25 },
      timeoutMs: 2000,
    });
  });

  test.each<[string, Record<string, string>, RegExp]>([
    ['grpc', { OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, /OTEL_EXPORTER_OTLP_PROTOCOL must be http\/protobuf or http\/json/],
    ['a ratio out of range', { OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_SAMPLER_ARG: '2' }, /OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1/],
    ['an unknown sampler', { OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_SAMPLER: 'jaeger_remote' }, /OTEL_TRACES_SAMPLER must be one of/],
    ['one signal endpoint alone', { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }, /Set OTLP_ENDPOINT/],
    ['not a URL', { OTLP_ENDPOINT: 'collector:4318' }, /OTLP_ENDPOINT must use http or https/],
  ])('refuses %s, naming the variable', (_name, env, message) => {
    expect(refusal(env)).toMatch(message);
  });

  test('a malformed header list is refused without quoting its values (they may be credentials)', () => {
    const message = refusal({ OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_HEADERS: 'api-key=sk-secret-1,=orphan' });
    expect(message).toMatch(/OTEL_EXPORTER_OTLP_HEADERS must be a comma-separated list/);
    expect(message).not.toContain('sk-secret-1');
    expect(refusal({ OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_HEADERS: 'api-key=sk-secret-1%' })).not.toContain('sk-secret-1');
  });
});
