// A stream the client leaves, or that the upstream cuts, was still billed by the provider for what
// it sent: the gateway counts it (an estimate from the text streamed plus the prompt's size,
// marked `estimated: true` in the usage event), so spend and budgets include it.
import { budgetPeriod } from '../../functions/core/budget';
import type { UsageEvent } from '../../functions/core/ports';
import { DEFAULT_TENANT } from '../../functions/core/tenants';
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { eventually } from '../helpers/eventually';
import { startGateway, type TestGateway } from '../helpers/gateway';

const KEY = 'gw-stream-estimate';
const auth = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };

interface UsageView {
  request_count: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_cost_usd: number;
}

describe('usage of streams that do not finish', () => {
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let events: UsageEvent[];

  beforeAll(async () => {
    upstream = await startOpenAIUpstream();
    gw = await startGateway({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url }, { routing: { fallback_providers: [] } });
    // Observed, not replaced: every event still goes to the aggregator behind GET /v1/usage.
    const sink = gw.usage.sink;
    const publish = sink.publish.bind(sink);
    sink.publish = (e) => {
      events.push(e);
      return publish(e);
    };
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  let tenantSeq = 0;
  beforeEach(async () => {
    events = [];
    upstream.setBehaviour(null);
    // A tenant per test, so that GET /v1/usage shows that test's requests alone.
    tenantSeq += 1;
    gw.tenants.put(`${KEY}-${tenantSeq}`, {
      ...DEFAULT_TENANT,
      id: `estimate-${tenantSeq}`,
      name: 'estimate',
      budget_usd: 100,
      rate_limit_rpm: 0,
      rate_limit_tpm: 0,
    });
  });
  const headers = (): Record<string, string> => ({ ...auth, authorization: `Bearer ${KEY}-${tenantSeq}` });

  /** The tenant's usage once the request is counted (usage is applied after the answer). */
  async function usageOnceCounted(): Promise<UsageView> {
    const { value } = await eventually('the request counted in /v1/usage', async () => {
      const usage = (await (await fetch(`${gw.url}/v1/usage`, { headers: headers() })).json()) as UsageView;
      return usage.request_count >= 1 && usage;
    });
    return value;
  }

  const body = JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'Count slowly to two hundred, please.' }] });
  const promptEstimate = Math.ceil(Buffer.byteLength(body) / 4);

  /** Reads SSE data until `n` content deltas arrived; returns their text. */
  async function readDeltas(reader: ReadableStreamDefaultReader<Uint8Array>, n: number): Promise<string> {
    const decoder = new TextDecoder();
    let buffered = '';
    let text = '';
    let seen = 0;
    while (seen < n) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      const events = buffered.split('\n\n');
      buffered = events.pop() ?? '';
      for (const e of events) {
        const content = (JSON.parse(e.replace(/^data: /, '')) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content;
        if (content) {
          text += content;
          seen += 1;
        }
      }
    }
    return text;
  }

  test('a client that leaves mid-stream: tokens and cost of what was streamed are counted, marked estimated', async () => {
    upstream.setBehaviour({ streamChunks: 200, chunkDelayMs: 25 });
    const controller = new AbortController();
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: headers(), body, signal: controller.signal });
    expect(res.status).toBe(200);
    const seen = await readDeltas(res.body!.getReader(), 5);
    controller.abort();

    const usage = await usageOnceCounted();
    expect(usage.request_count).toBe(1);
    expect(usage.prompt_tokens).toBe(promptEstimate);
    // At least what the client read, far less than the 200 chunks it did not wait for.
    expect(usage.completion_tokens).toBeGreaterThanOrEqual(Math.ceil(seen.length / 4));
    expect(usage.completion_tokens).toBeLessThan(200);
    expect(usage.total_cost_usd).toBeGreaterThan(0);

    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ status: 499, stream: true, estimated: true, prompt_tokens: promptEstimate });
    expect(events[0]!.cost_usd).toBeCloseTo(usage.total_cost_usd, 12);
    // The tenant's budget was charged the same, not 0 (its reservation settled at the estimate).
    const account = await gw.state.budgetLedger.change(`estimate-${tenantSeq}`, budgetPeriod(Date.now()), { spent: 0 });
    expect(account.committed).toBeCloseTo(usage.total_cost_usd, 6);
  });

  test('an upstream that cuts the stream: what it sent is counted, marked estimated', async () => {
    upstream.setBehaviour({ streamChunks: 50, failAfterChunks: 8 });
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: headers(), body });
    await res.text();

    const usage = await usageOnceCounted();
    expect(usage.request_count).toBe(1);
    expect(usage.prompt_tokens).toBe(promptEstimate);
    expect(usage.completion_tokens).toBeGreaterThan(0);
    expect(usage.total_cost_usd).toBeGreaterThan(0);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ estimated: true, stream: true });
    expect(events[0]!.status).toBeGreaterThanOrEqual(500);
  });

  test("a stream that completes reports the provider's own usage, not an estimate", async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: headers(), body });
    await res.text();
    const usage = await usageOnceCounted();
    expect(usage.request_count).toBe(1);
    expect(events).toHaveLength(1);
    expect(events[0]!.status).toBe(200);
    expect(events[0]!.estimated).toBeUndefined();
  });
});
