// Provider error text never reaches a tenant unless it is about the tenant's own request, and
// key-shaped text never leaves the process: not in the error, not in x_gateway.attempts of a
// successful fallback, not in the 502 summary, not in the logs. Real sockets end to end: fake
// upstreams answering with bodies that echo credentials, the local server, fetch as the client.
import { composeGateway, type ComposedGateway } from '../../functions/adapters/compose';
import { loadConfig } from '../../functions/config';
import { createJsonLogger } from '../../functions/core/logger';
import { startServer, type RunningServer } from '../../functions/local/server';
import { startOllamaUpstream } from '../fakes/ollama-upstream';
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';

const SECRETS = ['sk-live-4f9a8b7c6d5e4f3a2b1c', 'AKIAIOSFODNN7EXAMPLE', 'ASIAXYZ1234567890ABC', 'sk-ant-api03-abcdefghijk', 'gw-0123456789abcdef'];
const LEAKY = (status: number) =>
  JSON.stringify({
    error: {
      message:
        `Incorrect API key provided: Bearer ${SECRETS[0]} (signed by ${SECRETS[1]}, ` +
        `session ${SECRETS[2]}, also ${SECRETS[3]} and ${SECRETS[4]}) status ${status}`,
      type: 'invalid_request_error',
      param: null,
      code: 'invalid_api_key',
    },
  });
const ROUTING = {
  routes: {
    smart: {
      targets: [
        { provider: 'openai', model: 'gpt-4o' },
        { provider: 'ollama', model: 'llama3.2' },
      ],
    },
    solo: { targets: [{ provider: 'openai', model: 'gpt-4o' }] },
    doomed: {
      targets: [
        { provider: 'openai', model: 'gpt-4o' },
        { provider: 'openai', model: 'gpt-4o-mini' },
      ],
    },
  },
  circuit_breaker: { failure_threshold: 1000, success_threshold: 1, open_seconds: 30 },
};

function expectNoSecret(text: string): void {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
  expect(text).not.toMatch(/Bearer\s+sk-[A-Za-z0-9]/);
}

describe('provider error text and secrets', () => {
  let openai: FakeUpstream;
  let ollama: FakeUpstream;
  let local: ComposedGateway;
  let server: RunningServer;
  const logs: string[] = [];

  beforeAll(async () => {
    openai = await startOpenAIUpstream({ apiKey: SECRETS[0] });
    ollama = await startOllamaUpstream();
    const env = {
      ADDR: '127.0.0.1:0',
      OPENAI_API_KEY: SECRETS[0] as string,
      OPENAI_BASE_URL: openai.url,
      OLLAMA_BASE_URL: ollama.url,
      GATEWAY_CONFIG: 'routing.json',
    };
    const config = loadConfig(env, () => JSON.stringify(ROUTING), 'test');
    const logger = createJsonLogger('debug', (line) => void logs.push(line));
    local = await composeGateway(config, logger);
    server = await startServer({ host: config.host, port: config.port, maxBodyBytes: config.maxBodyBytes, logger, handle: (r) => local.gateway.handle(r) });
  });
  afterAll(async () => {
    await server.shutdown(1000);
    await local.state.close();
    await openai.close();
    await ollama.close();
  });
  afterEach(() => {
    openai.setBehaviour(null);
    ollama.setBehaviour(null);
  });

  const send = (model: string, stream = false): Promise<Response> =>
    fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer gw-default-key', 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], stream }),
    });

  test.each([401, 403, 500, 503])("upstream %i echoing credentials → 502 in the gateway's own words, nothing key-shaped", async (status) => {
    openai.setBehaviour({ status, body: LEAKY(status) });
    const res = await send('solo');
    const text = await res.text();
    expect(res.status).toBe(502);
    expectNoSecret(text);
    const message = (JSON.parse(text) as { error: { message: string } }).error.message;
    expect(message).toMatch(/^openai (rejected the gateway's credentials|failed with status)/);
    expect(message).not.toContain('Incorrect API key provided');
  });

  test.each([false, true])("a successful fallback (stream: %s) lists the failed attempt without the provider's text", async (stream) => {
    openai.setBehaviour({ status: 401, body: LEAKY(401) });
    const res = await send('smart', stream);
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-provider')).toBe('ollama');
    expect(text).toContain('"attempts"');
    expect(text).toContain("openai rejected the gateway's credentials (status 401)");
    expectNoSecret(text);
    expect(text).not.toContain('Incorrect API key provided');
  });

  it('every target failed → the 502 summary carries no provider text', async () => {
    openai.setBehaviour({ status: 500, body: LEAKY(500) });
    const res = await send('doomed');
    const text = await res.text();
    expect(res.status).toBe(502);
    expect(text).toContain('All 2 providers tried failed');
    expectNoSecret(text);
    expect(text).not.toContain('Incorrect API key provided');
  });

  test.each([400, 404, 422])("the client's own fault (%i) passes the provider's message through, key-shaped text masked", async (status) => {
    openai.setBehaviour({ status, body: LEAKY(status) });
    const res = await send('solo');
    const text = await res.text();
    expect(res.status).toBe(status);
    expect(text).toContain('Incorrect API key provided');
    expect(text).toContain('[REDACTED]');
    expectNoSecret(text);
  });

  it('log lines keep the cause for operators, with every key-shaped string masked', async () => {
    openai.setBehaviour({ status: 401, body: LEAKY(401) });
    logs.length = 0;
    await (await send('smart')).text();
    const all = logs.join('');
    expect(all).toContain('Incorrect API key provided'); // the provider's words reach the operator
    expectNoSecret(all);
  });
});
