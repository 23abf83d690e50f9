import { createServer } from 'node:http';
import { exportingTelemetry } from './functions/adapters/otel/telemetry.ts';
let bytes = 0;
const server = createServer((req, res) => { req.on('data', (c: Buffer) => { bytes += c.length; }); req.on('end', () => res.writeHead(200).end()); });
await new Promise<void>((r) => server.listen(14400, '127.0.0.1', r));
const thread = (process.env.THREAD ?? 'inline') as 'inline' | 'worker';
const t = exportingTelemetry({ tracesUrl: 'http://127.0.0.1:14400/v1/traces', metricsUrl: 'http://127.0.0.1:14400/v1/metrics', protocol: 'http/protobuf', headers: {}, serviceName: 'ai-gateway', resourceAttributes: {}, sampler: { name: 'parentbased_always_on', ratio: 1 }, timeoutMs: 10000 }, '1.0.0', undefined, thread);
function one(i: number) {
  const s = t.startSpan('POST /v1/chat/completions', { kind: 'server', attributes: { 'http.request.method': 'POST', 'url.path': '/v1/chat/completions', 'http.route': '/v1/chat/completions' } });
  s.setAttributes({ 'ai_gateway.tenant.id': 'default' });
  const c = t.startSpan('chat gpt-4o-mini', { kind: 'client', parent: s, attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.request.stream': false, 'ai_gateway.fallback.attempt': 0, 'ai_gateway.circuit_breaker.state': 'closed' } });
  c.traceparent();
  c.setAttributes({ 'gen_ai.response.model': 'gpt-4o-2024-08-06', 'ai_gateway.cache_hit': false, 'ai_gateway.cost_usd': 0.000405, 'gen_ai.usage.input_tokens': 14, 'gen_ai.usage.output_tokens': 37, 'gen_ai.usage.reasoning.output_tokens': 0, 'gen_ai.response.id': JSON.parse(`"chatcmpl-ABfvaueLEMLNYbT8YzpJ${i}"`), 'gen_ai.response.finish_reasons': ['stop'] });
  c.end();
  s.setAttributes({ 'http.response.status_code': 200 });
  s.end();
}
const N = Number(process.env.N ?? 30000);
let busy = 0;
const run = async (n: number) => { for (let i = 0; i < n; i++) { const a = performance.now(); for (let k = 0; k < 60; k++) one(i * 60 + k); busy += performance.now() - a; await new Promise((r) => setTimeout(r, 10)); } };
await run(100); await t.flush(); busy = 0; bytes = 0;
const c0 = process.cpuUsage();
await run(N / 60);
await t.flush();
const c = process.cpuUsage(c0);
console.log(`${thread}: main-thread µs/request ${(busy * 1000 / N).toFixed(2)}; process CPU µs/request ${((c.user + c.system) / N).toFixed(2)}; bytes/request ${(bytes / N).toFixed(0)}`);
await t.shutdown(); server.close(); process.exit(0);
