// The Lambda observability adapters on the real Powertools packages: the logger's JSON lines on
// stdout (Lambda context, per-request keys, redaction), the EMF documents Powertools Metrics
// prints, and one trace subsegment per provider call.
import type { Context } from 'aws-lambda';
import { createLambdaLogger } from '../../functions/adapters/aws/powertools-logger';
import { createEmfMetrics } from '../../functions/adapters/aws/emf-metrics';
import { traceProviderCalls, type ProviderTracer, type TraceSegment, type TraceSubsegment } from '../../functions/adapters/aws/provider-tracing';
import { CancelSignal } from '../../functions/core/cancel';
import { GatewayError } from '../../functions/core/errors';
import { METRIC } from '../../functions/core/metrics';
import { captureOutput } from '../helpers/captured-output';
import type { ChatCompletionRequest } from '../../functions/core/openai-types';
import type { StreamChunk } from '../../functions/core/chat/model';
import type { CallContext, NativeStreamEvent, Provider } from '../../functions/core/providers/provider';

/**
 * Everything written to stdout and stderr while `fn` runs, split into lines (Powertools writes
 * warnings and errors to stderr; in Lambda both streams go to the function's log).
 */
function outputOf(fn: () => void): string[] {
  const output = captureOutput();
  try {
    fn();
  } finally {
    output.restore();
  }
  return output
    .text()
    .split('\n')
    .filter((l) => l.trim() !== '');
}

const lambdaContext = {
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
  functionName: 'ai-gateway-chat',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:ai-gateway-chat',
  memoryLimitInMB: '1024',
  logGroupName: '/aws/lambda/ai-gateway-chat',
  logStreamName: 'stream',
  callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} as Context;

describe('Powertools logger adapter', () => {
  test('writes one JSON line per entry with the Lambda context and the request, tenant and provider keys', () => {
    const logger = createLambdaLogger('info', 'ai-gateway');
    const lines = outputOf(() => {
      logger.startInvocation(lambdaContext);
      logger.appendKeys({ request_id: 'req-00ab', tenant: 'acme' });
      logger.warn('provider attempt failed', { request_id: 'req-00ab', provider: 'openai', model: 'gpt-4o', status: 503 });
      logger.debug('not at info level');
    });
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 'WARN',
      message: 'provider attempt failed',
      service: 'ai-gateway',
      function_request_id: lambdaContext.awsRequestId,
      function_name: 'ai-gateway-chat',
      request_id: 'req-00ab',
      tenant: 'acme',
      provider: 'openai',
      model: 'gpt-4o',
      status: 503,
    });
    expect(typeof line.timestamp).toBe('string');
  });

  test("the next invocation starts without the previous one's keys", () => {
    const logger = createLambdaLogger('info', 'ai-gateway');
    const lines = outputOf(() => {
      logger.startInvocation(lambdaContext);
      logger.appendKeys({ tenant: 'acme' });
      logger.startInvocation({ ...lambdaContext, awsRequestId: 'second' });
      logger.info('second invocation');
    });
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line.function_request_id).toBe('second');
    expect(line).not.toHaveProperty('tenant');
  });

  test('never writes a key or prompt text, whatever the fields hold', () => {
    const logger = createLambdaLogger('debug', 'ai-gateway');
    const secrets = [
      'sk-proj-abcdef0123456789',
      'sk-ant-api03-zyxwvu987654',
      'gw-3f9a8b7c6d5e4f3a2b1c',
      'tell me a secret story',
      'AKIAIOSFODNN7EXAMPLE',
      'ASIAXYZ1234567890ABC',
    ];
    const lines = outputOf(() => {
      logger.error('upstream said: Incorrect API key provided: sk-proj-abcdef0123456789', {
        headers: { authorization: 'Bearer gw-3f9a8b7c6d5e4f3a2b1c', 'x-api-key': 'sk-ant-api03-zyxwvu987654' },
        request: { model: 'gpt-4o', messages: [{ role: 'user', content: 'tell me a secret story' }] },
        OPENAI_API_KEY: 'sk-proj-abcdef0123456789',
        error: 'Invalid key gw-3f9a8b7c6d5e4f3a2b1c',
        detail: 'signature by AKIAIOSFODNN7EXAMPLE (session ASIAXYZ1234567890ABC) does not match',
      });
      logger.info('prompt received', { prompt: 'tell me a secret story' });
    });
    const out = lines.join('\n');
    for (const s of secrets) expect(out).not.toContain(s);
    const first = JSON.parse(lines[0]!) as { message: string; headers: Record<string, string>; request: { model: string; messages: unknown } };
    expect(first.message).toBe('upstream said: Incorrect API key provided: sk-proj-[REDACTED]');
    expect(first.headers.authorization).toBe('[REDACTED]');
    expect(first.request).toEqual({ model: 'gpt-4o', messages: '[REDACTED]' }); // the model stays useful
  });
});

interface EmfDocument {
  _aws: { Timestamp: number; CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
  [key: string]: unknown;
}

describe('EMF metrics adapter', () => {
  test("prints one EMF document per label set, with the namespace, the seed's metric names and units", () => {
    const metrics = createEmfMetrics({ namespace: 'AiGateway', serviceName: 'ai-gateway-chat' });
    const requests = metrics.counter(METRIC.requests, { provider: 'openai', model: 'gpt-4o', tenant: 'acme', status: '200' });
    const lines = outputOf(() => {
      requests.add();
      requests.add();
      metrics.histogram(METRIC.duration, { provider: 'openai' }).observe(0.25);
      metrics.observe(METRIC.duration, { provider: 'openai' }, 0.75);
      metrics.count(METRIC.cost, { provider: 'openai', model: 'gpt-4o', tenant: 'acme' }, 0.0012);
      metrics.gauge(METRIC.breakerState, { provider: 'openai' }, 1);
      metrics.flush();
    });
    const docs = lines.map((l) => JSON.parse(l) as EmfDocument);
    expect(docs).toHaveLength(3); // {provider, model, tenant, status}, {provider}, {provider, model, tenant}
    for (const d of docs) expect(d._aws.CloudWatchMetrics[0]?.Namespace).toBe('AiGateway');
    const byMetric = (name: string) => docs.find((d) => d._aws.CloudWatchMetrics[0]?.Metrics.some((m) => m.Name === name));
    const req = byMetric(METRIC.requests)!;
    expect(req[METRIC.requests]).toBe(2); // counters are summed per invocation
    expect(req).toMatchObject({ provider: 'openai', model: 'gpt-4o', tenant: 'acme', status: '200', service: 'ai-gateway-chat' });
    expect(req._aws.CloudWatchMetrics[0]?.Dimensions[0]).toEqual(expect.arrayContaining(['service', 'provider', 'model', 'tenant', 'status']));
    expect(req._aws.CloudWatchMetrics[0]?.Metrics).toContainEqual({ Name: METRIC.requests, Unit: 'Count' });
    const latency = byMetric(METRIC.duration)!;
    expect(latency[METRIC.duration]).toEqual([0.25, 0.75]); // every observation, for percentiles
    expect(latency[METRIC.breakerState]).toBe(1); // same label set, same document
    expect(latency._aws.CloudWatchMetrics[0]?.Metrics).toContainEqual({ Name: METRIC.duration, Unit: 'Seconds' });
    expect(byMetric(METRIC.cost)![METRIC.cost]).toBe(0.0012);
  });

  test('each flush prints only what was recorded since the previous one; bound series keep working', () => {
    const metrics = createEmfMetrics({ namespace: 'AiGateway', serviceName: 'svc' });
    const hits = metrics.counter(METRIC.cacheHits, { tenant: 'acme' });
    const first = outputOf(() => {
      hits.add();
      metrics.flush();
    });
    const empty = outputOf(() => metrics.flush());
    const second = outputOf(() => {
      hits.add(3);
      metrics.flush();
    });
    expect((JSON.parse(first[0]!) as EmfDocument)[METRIC.cacheHits]).toBe(1);
    expect(empty).toEqual([]);
    expect((JSON.parse(second[0]!) as EmfDocument)[METRIC.cacheHits]).toBe(3);
  });

  test('more than 99 observations are split over documents (EMF takes 100 values per metric)', () => {
    const metrics = createEmfMetrics({ namespace: 'AiGateway', serviceName: 'svc' });
    const lines = outputOf(() => {
      for (let i = 0; i < 150; i++) metrics.observe(METRIC.duration, { provider: 'ollama' }, i / 100);
      metrics.flush();
    });
    const values = lines.map((l) => (JSON.parse(l) as EmfDocument)[METRIC.duration] as number[]);
    expect(values.map((v) => v.length)).toEqual([99, 51]);
    expect(lines.every((l) => (JSON.parse(l) as EmfDocument).provider === 'ollama')).toBe(true);
  });
});

/** A tracer stand-in recording the subsegments opened under it, shaped like Powertools' Tracer. */
class RecordingTracer implements ProviderTracer {
  readonly opened: RecordedSubsegment[] = [];
  readonly root: TraceSegment = { addNewSubsegment: (name) => this.open(name, this.root) };
  current: TraceSegment | TraceSubsegment = this.root;
  constructor(private readonly enabled = true) {}
  isTracingEnabled(): boolean {
    return this.enabled;
  }
  getSegment(): TraceSegment | TraceSubsegment {
    return this.current;
  }
  setSegment(segment: TraceSegment | TraceSubsegment): void {
    this.current = segment;
  }
  private open(name: string, parent: TraceSegment): RecordedSubsegment {
    const sub = new RecordedSubsegment(name, parent, (n, p) => this.open(n, p));
    this.opened.push(sub);
    return sub;
  }
}

class RecordedSubsegment implements TraceSubsegment {
  annotations: Record<string, string | number | boolean> = {};
  errors: Error[] = [];
  closed = false;
  constructor(
    readonly name: string,
    readonly parent: TraceSegment,
    private readonly child: (name: string, parent: TraceSegment) => RecordedSubsegment,
  ) {}
  addNewSubsegment(name: string): TraceSubsegment {
    return this.child(name, this);
  }
  addAnnotation(key: string, value: string | number | boolean): void {
    this.annotations[key] = value;
  }
  addError(err: Error): void {
    this.errors.push(err);
  }
  close(): void {
    this.closed = true;
  }
}

/** A provider answering from a script, recording which segment was current during its call. */
function scriptedProvider(tracer: RecordingTracer, behaviour: 'json' | 'stream' | 'fail'): Provider & { seenSegment?: unknown } {
  const p: Provider & { seenSegment?: unknown } = {
    name: 'anthropic',
    configured: true,
    async chat(request: ChatCompletionRequest) {
      p.seenSegment = tracer.current;
      if (behaviour === 'fail') throw new GatewayError(529, 'Overloaded', { type: 'overloaded_error' });
      if (behaviour === 'json') {
        return { kind: 'json', completion: { id: 'c1', object: 'chat.completion', created: 0, model: request.model, choices: [] } };
      }
      async function* chunks(): AsyncIterable<StreamChunk> {
        yield { json: '{"a":1}' };
        yield { json: '{"a":2}' };
      }
      return { kind: 'stream', model: request.model, id: 's1', created: 0, chunks: chunks() };
    },
    async listModels() {
      return [];
    },
    async health() {
      return 'ok';
    },
  };
  return p;
}

const ctx: CallContext = { signal: new CancelSignal(), requestId: 'req-1', timeoutMs: 1000 };
const request: ChatCompletionRequest = { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] };

describe('provider tracing wrapper', () => {
  test('opens one subsegment per call, named and annotated with the provider, current during the call', async () => {
    const tracer = new RecordingTracer();
    const inner = scriptedProvider(tracer, 'json');
    const traced = traceProviderCalls(tracer)(inner);
    await traced.chat(request, ctx);
    await traced.chat(request, ctx);
    expect(tracer.opened.map((s) => s.name)).toEqual(['## anthropic.chat', '## anthropic.chat']);
    expect(tracer.opened[0]?.annotations).toEqual({ provider: 'anthropic', model: 'claude-sonnet-4-5' });
    expect(inner.seenSegment).toBe(tracer.opened[1]);
    expect(tracer.opened.every((s) => s.closed && s.parent === tracer.root)).toBe(true);
    expect(tracer.current).toBe(tracer.root);
    expect(traced.name).toBe('anthropic');
    expect(traced.configured).toBe(true);
    expect(traced.embed).toBeUndefined(); // this provider does not embed, and the wrapper says so too
  });

  test('a stream keeps its subsegment open until the last chunk was read', async () => {
    const tracer = new RecordingTracer();
    const traced = traceProviderCalls(tracer)(scriptedProvider(tracer, 'stream'));
    const result = await traced.chat({ ...request, stream: true }, ctx);
    if (result.kind !== 'stream') throw new Error('expected a stream');
    expect(tracer.opened[0]?.closed).toBe(false);
    expect(tracer.current).toBe(tracer.root); // the rest of the request is not the provider's
    const seen: string[] = [];
    for await (const chunk of result.chunks) seen.push(chunk.json);
    expect(seen).toEqual(['{"a":1}', '{"a":2}']);
    expect(tracer.opened[0]?.closed).toBe(true);
  });

  test('a failed call marks its subsegment with the error and rethrows it unchanged', async () => {
    const tracer = new RecordingTracer();
    const traced = traceProviderCalls(tracer)(scriptedProvider(tracer, 'fail'));
    await expect(traced.chat(request, ctx)).rejects.toMatchObject({ status: 529 });
    expect(tracer.opened[0]?.errors[0]?.message).toBe('Overloaded');
    expect(tracer.opened[0]?.closed).toBe(true);
    expect(tracer.current).toBe(tracer.root);
  });

  test('a provider that forwards a client API natively still does when traced, its stream in one subsegment', async () => {
    const tracer = new RecordingTracer();
    const events = [
      { type: 'message_start', data: '{"type":"message_start"}' },
      { type: 'message_stop', data: '{"type":"message_stop"}' },
    ];
    const inner: Provider = {
      ...scriptedProvider(tracer, 'json'),
      forwards: (api) => api === 'anthropic-messages',
      async forward() {
        async function* stream(): AsyncIterable<NativeStreamEvent> {
          yield* events;
        }
        return { kind: 'stream', events: stream() };
      },
    };
    const traced = traceProviderCalls(tracer)(inner);
    expect(traced.forwards?.('anthropic-messages')).toBe(true);
    expect(traced.forwards?.('openai-responses')).toBe(false);
    const result = await traced.forward?.('anthropic-messages', { body: Buffer.from('{}'), model: 'claude-sonnet-4-5', headers: {} }, ctx);
    if (result?.kind !== 'stream') throw new Error('expected a stream');
    expect(tracer.opened.map((s) => [s.name, s.closed])).toEqual([['## anthropic.anthropic-messages', false]]);
    const seen: NativeStreamEvent[] = [];
    for await (const event of result.events) seen.push(event);
    expect(seen).toEqual(events);
    expect(tracer.opened[0]).toMatchObject({ closed: true, annotations: { provider: 'anthropic', model: 'claude-sonnet-4-5' } });
  });

  test('with tracing off the providers are handed back untouched', () => {
    const tracer = new RecordingTracer(false);
    const inner = scriptedProvider(tracer, 'json');
    expect(traceProviderCalls(tracer)(inner)).toBe(inner);
  });
});
