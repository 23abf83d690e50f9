// Part of the "telemetry" section: what exporting costs the request path's own thread, free of
// the machine's noise. In this process, the exporting Telemetry with its pipeline inline (as on
// Lambda) and in its worker thread (as on the local server), each fed the two spans of a sync chat
// request with the attributes the gateway sets, 60 requests every 10 ms (6,000 req/s), exporting
// over http/protobuf to a sink in this process. Reported per request: the time the loop spends
// making and ending the spans (the request path's share), and the process's CPU (the worker's and
// the sink's included).
import { exportingTelemetry, type ExportThread, type ExportingTelemetry } from '../../functions/adapters/otel/telemetry';
import { loadOtlpSettings } from '../../functions/config/otlp';

export interface ThreadCost {
  /** µs per request spent on the request path's thread. */
  requestThreadUs: number;
  /** µs of process CPU per request. */
  processCpuUs: number;
  /** OTLP bytes the sink received per request. */
  bytesPerRequest: number;
}

const PER_TICK = 60;
const TICK_MS = 10;
const REQUESTS = 30_000;
const WARM_UP = 6_000;

/** One sync chat request's spans, as the gateway makes them. */
export function oneRequest(t: ExportingTelemetry, i: number): void {
  const server = t.startSpan('POST /v1/chat/completions', {
    kind: 'server',
    attributes: { 'http.request.method': 'POST', 'url.path': '/v1/chat/completions', 'http.route': '/v1/chat/completions' },
  });
  server.setAttributes({ 'ai_gateway.tenant.id': 'default' });
  const call = t.startSpan('chat gpt-4o-mini', {
    kind: 'client',
    parent: server,
    attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.request.stream': false },
  });
  call.setAttributes({ 'ai_gateway.fallback.attempt': 0, 'ai_gateway.circuit_breaker.state': 'closed' });
  call.traceparent();
  call.setAttributes({
    'gen_ai.response.model': 'gpt-4o-2024-08-06',
    'ai_gateway.cache_hit': false,
    'ai_gateway.cost_usd': 0.000405,
    'gen_ai.usage.input_tokens': 14,
    'gen_ai.usage.output_tokens': 37,
    'gen_ai.response.id': `chatcmpl-${i.toString(36).padStart(12, '0')}`,
    'gen_ai.response.finish_reasons': ['stop'],
  });
  call.end();
  server.setAttributes({ 'http.response.status_code': 200 });
  server.end();
}

/** The section's sink: where it listens, and the bytes it has received so far. */
export interface Sink {
  url: string;
  counts: { bytes: number };
}

async function measure(thread: ExportThread, sink: Sink): Promise<ThreadCost> {
  // The settings a gateway reads from OTLP_ENDPOINT alone: http/protobuf, every span sampled.
  const settings = loadOtlpSettings({ OTLP_ENDPOINT: sink.url }).otlp;
  if (!settings) throw new Error('OTLP_ENDPOINT gave no export settings');
  const t = exportingTelemetry(settings, 'bench', undefined, thread);
  let busyMs = 0;
  let n = 0;
  const run = async (requests: number): Promise<void> => {
    for (let done = 0; done < requests; done += PER_TICK) {
      const start = performance.now();
      for (let k = 0; k < PER_TICK; k++) oneRequest(t, n++);
      busyMs += performance.now() - start;
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
  };
  try {
    await run(WARM_UP);
    await t.flush();
    busyMs = 0;
    const bytes0 = sink.counts.bytes;
    const cpu0 = process.cpuUsage();
    await run(REQUESTS);
    await t.flush();
    const cpu = process.cpuUsage(cpu0);
    return {
      requestThreadUs: (busyMs * 1000) / REQUESTS,
      processCpuUs: (cpu.user + cpu.system) / REQUESTS,
      bytesPerRequest: (sink.counts.bytes - bytes0) / REQUESTS,
    };
  } finally {
    await t.shutdown();
  }
}

/** The request path's and the process's cost per request, export inline and in the worker, exporting to `sink`. */
export async function measureExportThreads(sink: Sink): Promise<Record<ExportThread, ThreadCost>> {
  const inline = await measure('inline', sink);
  const worker = await measure('worker', sink);
  return { inline, worker };
}
