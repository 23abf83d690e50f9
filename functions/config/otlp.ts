// Where the gateway's traces and metrics are exported over OTLP/HTTP, from the seed's
// OTLP_ENDPOINT and OpenTelemetry's standard variables. No endpoint: nothing is exported, and
// nothing of the OpenTelemetry SDK is loaded.
import * as v from 'valibot';
import { ConfigError } from './error';
import { httpUrl, oneOf, positiveInt, readEnv, type Env } from './env';

export type OtlpProtocol = 'http/protobuf' | 'http/json';

export type SamplerName = 'always_on' | 'always_off' | 'traceidratio' | 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio';

export interface OtlpExport {
  /** Full URLs: `<base>/v1/traces` and `<base>/v1/metrics` unless a signal's own endpoint is set. */
  tracesUrl: string;
  metricsUrl: string;
  protocol: OtlpProtocol;
  /** OTEL_EXPORTER_OTLP_HEADERS, e.g. an API key the collector wants: sent, never logged. */
  headers: Record<string, string>;
  serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES. */
  resourceAttributes: Record<string, string>;
  sampler: { name: SamplerName; ratio: number };
  /** OTEL_EXPORTER_OTLP_TIMEOUT: how long one export (its retries included) may take, in ms. */
  timeoutMs: number;
}

export interface OtlpSettings {
  /** Absent when no endpoint is set. */
  otlp?: OtlpExport;
}

const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;

const OtlpEnv = v.object({
  OTLP_ENDPOINT: v.optional(httpUrl),
  OTEL_EXPORTER_OTLP_ENDPOINT: v.optional(httpUrl),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: v.optional(httpUrl),
  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: v.optional(httpUrl),
  OTEL_EXPORTER_OTLP_PROTOCOL: v.optional(oneOf(['http/protobuf', 'http/json'] as const, 'must be http/protobuf or http/json (grpc is not supported)')),
  OTEL_EXPORTER_OTLP_HEADERS: v.optional(v.string()),
  OTEL_SERVICE_NAME: v.optional(v.pipe(v.string(), v.minLength(1, 'must not be empty'))),
  OTEL_RESOURCE_ATTRIBUTES: v.optional(v.string()),
  OTEL_TRACES_SAMPLER: v.optional(oneOf(SAMPLERS)),
  OTEL_TRACES_SAMPLER_ARG: v.optional(v.string()),
  OTEL_EXPORTER_OTLP_TIMEOUT: v.optional(positiveInt(600_000), '10000'),
});

export function loadOtlpSettings(env: Env): OtlpSettings {
  const e = readEnv(env, OtlpEnv);
  // The standard variable wins over the seed's name; a signal's own endpoint over both.
  const base = (e.OTEL_EXPORTER_OTLP_ENDPOINT ?? e.OTLP_ENDPOINT)?.replace(/\/+$/, '');
  const tracesUrl = e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (base && `${base}/v1/traces`);
  const metricsUrl = e.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT ?? (base && `${base}/v1/metrics`);
  if (!tracesUrl || !metricsUrl) {
    if (tracesUrl || metricsUrl) {
      throw new ConfigError('Set OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_ENDPOINT) as well: one signal endpoint alone leaves the other nowhere to go.');
    }
    return {};
  }
  const sampler = e.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on';
  return {
    otlp: {
      tracesUrl,
      metricsUrl,
      protocol: e.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf',
      headers: keyValueList('OTEL_EXPORTER_OTLP_HEADERS', e.OTEL_EXPORTER_OTLP_HEADERS),
      serviceName: e.OTEL_SERVICE_NAME ?? 'ai-gateway',
      resourceAttributes: keyValueList('OTEL_RESOURCE_ATTRIBUTES', e.OTEL_RESOURCE_ATTRIBUTES),
      sampler: { name: sampler, ratio: samplerRatio(e.OTEL_TRACES_SAMPLER_ARG) },
      timeoutMs: e.OTEL_EXPORTER_OTLP_TIMEOUT,
    },
  };
}

/** `k1=v1,k2=v2` with percent-encoded values (the W3C baggage form OpenTelemetry's variables use). */
function keyValueList(name: string, raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const pair of raw.split(',')) {
    if (pair.trim() === '') continue;
    const at = pair.indexOf('=');
    const key = at > 0 ? pair.slice(0, at).trim() : '';
    // The value is never quoted back: it may be a credential.
    if (key === '') throw new ConfigError(`${name} must be a comma-separated list of key=value pairs.`);
    try {
      out[key] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      throw new ConfigError(`${name}: the value of "${key}" is not valid percent-encoding.`);
    }
  }
  return out;
}

/** OTEL_TRACES_SAMPLER_ARG for the ratio samplers: 0…1, 1 when absent. */
function samplerRatio(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return 1;
  const ratio = Number(raw);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) throw new ConfigError('OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1.');
  return ratio;
}
