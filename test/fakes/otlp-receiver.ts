// A fake OpenTelemetry collector: an OTLP/HTTP receiver on 127.0.0.1 that takes traces and
// metrics as protobuf (`application/x-protobuf`, decoded with the classes generated from the
// opentelemetry-proto definitions, as published in @opentelemetry/otlp-transformer 0.57) or JSON
// (`application/json`, OTLP's JSON mapping), and keeps what it received in one plain shape, so a
// test asserts on attributes the same way whichever protocol the exporter spoke.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import root from 'otlp-proto-root/build/src/generated/root';

export type AttributeValue = string | number | boolean | AttributeValue[] | null;
export type Attributes = Record<string, AttributeValue>;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP's SpanKind number: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Attributes;
  events: Array<{ name: string; timeNs: bigint; attributes: Attributes }>;
  /** OTLP's status code: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
  resource: Attributes;
  scope: string;
}

export interface ReceivedDataPoint {
  attributes: Attributes;
  /** A sum's or gauge's value; a histogram's sum. */
  value: number;
  /** A histogram's count (absent for sums and gauges). */
  count?: number;
}

export interface ReceivedMetric {
  name: string;
  unit: string;
  kind: 'sum' | 'gauge' | 'histogram' | 'other';
  points: ReceivedDataPoint[];
  resource: Attributes;
}

export interface ReceivedExport {
  path: string;
  contentType: string;
  headers: IncomingHttpHeaders;
}

export interface OtlpReceiver {
  /** The base URL, as OTLP_ENDPOINT takes it (`http://127.0.0.1:PORT`). */
  url: string;
  spans: ReceivedSpan[];
  metrics: ReceivedMetric[];
  exports: ReceivedExport[];
  /** Answer every export with this status from now on (null: 200). */
  failWith(status: number | null): void;
  close(): Promise<void>;
}

/** What the generated classes offer (their typings name only protobufjs's generic Root). */
interface MessageClass {
  decode(bytes: Uint8Array): object;
  toObject(message: object, options: Record<string, unknown>): unknown;
}
interface Collector {
  trace: { v1: { ExportTraceServiceRequest: MessageClass } };
  metrics: { v1: { ExportMetricsServiceRequest: MessageClass } };
}
const { collector } = (root as unknown as { opentelemetry: { proto: { collector: Collector } } }).opentelemetry.proto;
const TRACES = collector.trace.v1.ExportTraceServiceRequest;
const METRICS = collector.metrics.v1.ExportMetricsServiceRequest;

/** The decoded message in OTLP's JSON mapping (ids as hex, 64-bit numbers as strings), as the JSON protocol sends it. */
function decodeProto(kind: 'traces' | 'metrics', body: Buffer): unknown {
  const type = kind === 'traces' ? TRACES : METRICS;
  return type.toObject(type.decode(body), { longs: String, bytes: String, enums: Number, defaults: false, arrays: true, objects: true });
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const metrics: ReceivedMetric[] = [];
  const exports: ReceivedExport[] = [];
  let failure: number | null = null;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0] ?? '';
      const contentType = String(req.headers['content-type'] ?? '').split(';')[0] ?? '';
      exports.push({ path, contentType, headers: req.headers });
      if (failure !== null) {
        res.writeHead(failure, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      const kind = path === '/v1/traces' ? 'traces' : path === '/v1/metrics' ? 'metrics' : undefined;
      if (req.method !== 'POST' || !kind) {
        res.writeHead(404).end();
        return;
      }
      try {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        const message = contentType === 'application/x-protobuf' ? decodeProto(kind, body) : JSON.parse(body.toString('utf8'));
        if (kind === 'traces') spans.push(...readSpans(message, contentType === 'application/x-protobuf'));
        else metrics.push(...readMetrics(message));
        res.writeHead(200, { 'content-type': contentType || 'application/json' }).end(contentType === 'application/x-protobuf' ? '' : '{}');
      } catch (err) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ message: String(err) }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    metrics,
    exports,
    failWith: (status) => {
      failure = status;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// OTLP's JSON shape → the plain shape
// ---------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;
const list = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);

/** Ids arrive as hex in OTLP JSON, and as base64 from protobuf bytes converted with `bytes: String`. */
function hexId(v: unknown, fromProto: boolean): string {
  if (typeof v !== 'string' || v === '') return '';
  return fromProto ? Buffer.from(v, 'base64').toString('hex') : v.toLowerCase();
}

function anyValue(v: Json | undefined): AttributeValue {
  if (!v) return null;
  if ('stringValue' in v) return String(v.stringValue);
  if ('boolValue' in v) return Boolean(v.boolValue);
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return Number(v.doubleValue);
  if ('arrayValue' in v) return list((v.arrayValue as Json | undefined)?.values).map(anyValue);
  return null;
}

function attributes(v: unknown): Attributes {
  const out: Attributes = {};
  for (const kv of list(v)) out[String(kv.key)] = anyValue(kv.value as Json | undefined);
  return out;
}

const nanos = (v: unknown): bigint => (v === undefined || v === null ? 0n : BigInt(String(v)));

function readSpans(message: unknown, fromProto: boolean): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of list((message as Json).resourceSpans)) {
    const resource = attributes((rs.resource as Json | undefined)?.attributes);
    for (const ss of list(rs.scopeSpans)) {
      const scope = String((ss.scope as Json | undefined)?.name ?? '');
      for (const s of list(ss.spans)) {
        const status = (s.status as Json | undefined) ?? {};
        out.push({
          traceId: hexId(s.traceId, fromProto),
          spanId: hexId(s.spanId, fromProto),
          parentSpanId: hexId(s.parentSpanId, fromProto),
          name: String(s.name ?? ''),
          kind: Number(s.kind ?? 0),
          startNs: nanos(s.startTimeUnixNano),
          endNs: nanos(s.endTimeUnixNano),
          attributes: attributes(s.attributes),
          events: list(s.events).map((e) => ({ name: String(e.name ?? ''), timeNs: nanos(e.timeUnixNano), attributes: attributes(e.attributes) })),
          status: { code: Number(status.code ?? 0), message: String(status.message ?? '') },
          resource,
          scope,
        });
      }
    }
  }
  return out;
}

function readMetrics(message: unknown): ReceivedMetric[] {
  const out: ReceivedMetric[] = [];
  for (const rm of list((message as Json).resourceMetrics)) {
    const resource = attributes((rm.resource as Json | undefined)?.attributes);
    for (const sm of list(rm.scopeMetrics)) {
      for (const m of list(sm.metrics)) {
        const [kind, data] = m.sum
          ? (['sum', m.sum] as const)
          : m.gauge
            ? (['gauge', m.gauge] as const)
            : m.histogram
              ? (['histogram', m.histogram] as const)
              : (['other', {}] as const);
        const points = list((data as Json).dataPoints).map((p): ReceivedDataPoint => {
          const point: ReceivedDataPoint = { attributes: attributes(p.attributes), value: Number(p.asDouble ?? p.asInt ?? p.sum ?? 0) };
          if (kind === 'histogram') point.count = Number(p.count ?? 0);
          return point;
        });
        out.push({ name: String(m.name ?? ''), unit: String(m.unit ?? ''), kind, points, resource });
      }
    }
  }
  return out;
}
