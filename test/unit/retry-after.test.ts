// How long an upstream asks the gateway to wait, read from its 429/503/529 headers: the recorded
// and documented header sets of OpenAI and Anthropic, and the standard retry-after forms.
import { GatewayError } from '../../functions/core/errors';
import { errorFromBody } from '../../functions/core/providers/anthropic/from-anthropic';
import { parseDuration, retryAfterOf } from '../../functions/core/providers/retry-after';
import { upstreamStatusError } from '../../functions/core/providers/upstream-errors';
import { bedrockError } from '../../functions/adapters/bedrock/errors';
import { fixtureJson } from './fixture-files';

interface OpenAIErrorExample {
  status: number;
  headers?: Record<string, string>;
}

const NOW = Date.UTC(2026, 1, 25, 20, 2, 30); // 2026-02-25T20:02:30Z

describe('retry-after and retry-after-ms', () => {
  test('seconds (a fraction allowed), milliseconds first, an HTTP date against the wall clock', () => {
    expect(retryAfterOf(429, { 'retry-after': '20' }, NOW)).toEqual({ ms: 20_000, header: 'retry-after' });
    expect(retryAfterOf(429, { 'retry-after': '1.5' }, NOW)).toEqual({ ms: 1500, header: 'retry-after' });
    expect(retryAfterOf(503, { 'retry-after': '20', 'retry-after-ms': '250' }, NOW)).toEqual({ ms: 250, header: 'retry-after-ms' });
    expect(retryAfterOf(529, { 'retry-after': new Date(NOW + 12_000).toUTCString() }, NOW)).toEqual({ ms: 12_000, header: 'retry-after' });
  });

  test('no advice: another status, a zero or past wait, a value that is not one', () => {
    expect(retryAfterOf(500, { 'retry-after': '20' }, NOW)).toBeUndefined();
    expect(retryAfterOf(400, { 'retry-after': '20' }, NOW)).toBeUndefined();
    expect(retryAfterOf(429, { 'retry-after': '0' }, NOW)).toBeUndefined();
    expect(retryAfterOf(429, { 'retry-after': new Date(NOW - 5000).toUTCString() }, NOW)).toBeUndefined();
    expect(retryAfterOf(429, { 'retry-after': 'soon' }, NOW)).toBeUndefined();
    expect(retryAfterOf(429, {}, NOW)).toBeUndefined();
  });
});

describe("OpenAI's x-ratelimit-reset-* durations", () => {
  test('the documented forms', () => {
    expect(parseDuration('1s')).toBe(1000);
    expect(parseDuration('6m0s')).toBe(360_000);
    expect(parseDuration('20ms')).toBe(20);
    expect(parseDuration('1m30.5s')).toBe(90_500);
    expect(parseDuration('1h2m')).toBe(3_720_000);
    expect(parseDuration('soon')).toBeUndefined();
  });

  test("the documented 429's headers: retry-after wins over the reset", () => {
    const example = fixtureJson<{ examples: OpenAIErrorExample[] }>('openai/errors.json').examples.find((e) => e.status === 429);
    const headers = example?.headers ?? {};
    expect(retryAfterOf(429, headers, NOW)).toEqual({ ms: 1000, header: 'retry-after' });
    const { 'retry-after': _, ...resetsOnly } = headers;
    expect(retryAfterOf(429, resetsOnly, NOW)).toEqual({ ms: 1000, header: 'x-ratelimit-reset-requests' });
  });

  test('the exhausted limit decides; with none marked exhausted, the later reset', () => {
    const both = { 'x-ratelimit-reset-requests': '1s', 'x-ratelimit-reset-tokens': '6m0s' };
    expect(retryAfterOf(429, { ...both, 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-remaining-tokens': '149984' }, NOW)).toEqual({
      ms: 1000,
      header: 'x-ratelimit-reset-requests',
    });
    expect(retryAfterOf(429, both, NOW)).toEqual({ ms: 360_000, header: 'x-ratelimit-reset-tokens' });
  });
});

describe("Anthropic's anthropic-ratelimit-*-reset timestamps", () => {
  const recorded = fixtureJson<Record<string, string>>('anthropic/ratelimit-headers.success.recorded.json');

  test('the recorded headers on a 429: the latest reset, when no limit says it is exhausted', () => {
    // input-tokens resets last, at 20:02:37Z: seven seconds after NOW.
    expect(retryAfterOf(429, recorded, NOW)).toEqual({ ms: 7000, header: 'anthropic-ratelimit-input-tokens-reset' });
  });

  test('an exhausted limit (remaining 0) decides', () => {
    const requestsOut = { ...recorded, 'anthropic-ratelimit-requests-remaining': '0' };
    expect(retryAfterOf(429, requestsOut, NOW)).toEqual({ ms: 2000, header: 'anthropic-ratelimit-requests-reset' });
  });

  test("Anthropic's error answer carries the advice: a retryable 502 that tells the gateway how long to wait", () => {
    const error = errorFromBody(429, JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'Rate limited' } }), {
      'retry-after': '20',
    });
    expect(error).toMatchObject({ status: 502, retryable: true, retryAfter: { ms: 20_000, header: 'retry-after' } });
  });
});

describe('the gateway error of an upstream answer', () => {
  test('429, 503 and 529 carry the advice; a 500 or a client fault does not', () => {
    const headers = { 'retry-after': '3' };
    expect(upstreamStatusError('groq', 429, { message: 'slow down' }, headers).retryAfter).toEqual({ ms: 3000, header: 'retry-after' });
    expect(upstreamStatusError('groq', 503, { message: 'busy' }, headers)).toMatchObject({ overloaded: true, retryAfter: { ms: 3000 } });
    expect(upstreamStatusError('groq', 500, { message: 'broken' }, headers).retryAfter).toBeUndefined();
    expect(upstreamStatusError('groq', 400, { message: 'bad' }, headers).retryAfter).toBeUndefined();
  });

  test("Bedrock's throttling exception with the HTTP answer's retry-after", () => {
    const throttled = Object.assign(new Error('Too many requests'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 429 },
      $response: { headers: { 'retry-after': '4' } },
    });
    const error = bedrockError(throttled);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error.retryAfter).toEqual({ ms: 4000, header: 'retry-after' });
    expect(bedrockError(Object.assign(new Error('x'), { name: 'ThrottlingException' })).retryAfter).toBeUndefined();
  });
});
