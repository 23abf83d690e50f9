// The API Gateway HTTP API adapter: the event as the core's ApiRequest, an ApiResponse as the
// structured result, and the middy edge around an ApiHandler.
import type { Context } from 'aws-lambda';
import { fromHttpApiEvent, stagePath, toHttpApiResult } from '../../functions/adapters/lambda/http-api';
import { httpApiEdge } from '../../functions/adapters/lambda/http-api-edge';
import { jsonResponse, type ApiRequest, type ApiResponse } from '../../functions/core/api-types';
import { silentLogger } from '../../functions/core/logger';
import { httpApiEvent, type HttpApiRequestSpec } from '../helpers/http-api-event';

const LIMIT = 64;

function request(spec: HttpApiRequestSpec): ApiRequest {
  const converted = fromHttpApiEvent(httpApiEvent(spec), LIMIT);
  if (converted.kind !== 'request') throw new Error(`expected a request, got ${converted.response.status}`);
  return converted.request;
}

describe('HTTP API event → ApiRequest', () => {
  it("strips a named stage's prefix from the path, and only that", () => {
    expect(request({ method: 'GET', path: '/admin/tenants', stage: 'prod' }).path).toBe('/admin/tenants');
    expect(request({ method: 'GET', path: '/v1/usage', stage: 'prod' }).path).toBe('/v1/usage');
    expect(request({ method: 'GET', path: '/v1/usage', stage: '$default' }).path).toBe('/v1/usage');
    expect(stagePath({ rawPath: '/prod', requestContext: { stage: 'prod' } })).toBe('/');
    expect(stagePath({ rawPath: '/production/v1/usage', requestContext: { stage: 'prod' } })).toBe('/production/v1/usage');
    expect(stagePath({ rawPath: '', requestContext: {} })).toBe('/');
  });

  it('lower-cases header names and joins cookies into one Cookie header', () => {
    const req = request({ method: 'get', path: '/v1/usage', headers: { Authorization: 'Bearer gw-x', 'X-Request-ID': 'abc' }, cookies: ['a=1', 'b=2'] });
    expect(req.method).toBe('GET');
    expect(req.headers).toEqual({ authorization: 'Bearer gw-x', 'x-request-id': 'abc', cookie: 'a=1; b=2' });
  });

  it('decodes a base64 body, keeps a text body as sent, and reads the query string', () => {
    expect(request({ method: 'POST', path: '/x', body: Buffer.from([0xff, 0x00, 0x7b]) }).body).toEqual(Buffer.from([0xff, 0x00, 0x7b]));
    expect(request({ method: 'POST', path: '/x', body: '{"é":1}' }).body.toString('utf8')).toBe('{"é":1}');
    expect(request({ method: 'GET', path: '/admin/audit?limit=5&tenant_id=a' }).query.get('limit')).toBe('5');
    expect(request({ method: 'GET', path: '/x' }).body.length).toBe(0);
  });

  it("takes API Gateway's sourceIp as the peer address", () => {
    expect(request({ method: 'GET', path: '/x', sourceIp: '203.0.113.7' }).remoteAddress).toBe('203.0.113.7');
  });

  it('answers 413 for a body over the limit, measured decoded (base64 or not)', () => {
    for (const body of ['x'.repeat(LIMIT + 1), Buffer.alloc(LIMIT + 1)]) {
      const converted = fromHttpApiEvent(httpApiEvent({ method: 'POST', path: '/x', body }), LIMIT);
      expect(converted.kind).toBe('response');
      if (converted.kind !== 'response') continue;
      expect(converted.response.status).toBe(413);
      expect(JSON.parse(String(converted.response.body))).toMatchObject({ error: { code: 'request_too_large' } });
    }
    // Exactly the limit in decoded bytes passes, though its base64 text is longer.
    expect(fromHttpApiEvent(httpApiEvent({ method: 'POST', path: '/x', body: Buffer.alloc(LIMIT) }), LIMIT).kind).toBe('request');
  });
});

describe('ApiResponse → structured result', () => {
  it('keeps status, headers and a whole body; collects a streamed one', async () => {
    const whole: ApiResponse = { status: 201, headers: { 'content-type': 'application/json' }, body: '{}' };
    expect(await toHttpApiResult(whole)).toEqual({ statusCode: 201, headers: { 'content-type': 'application/json' }, body: '{}', isBase64Encoded: false });
    async function* chunks(): AsyncIterable<string> {
      yield 'data: 1\n\n';
      yield 'data: 2\n\n';
    }
    expect((await toHttpApiResult({ status: 200, headers: {}, body: chunks() })).body).toBe('data: 1\n\ndata: 2\n\n');
  });
});

describe('the middy edge (httpApiEdge)', () => {
  /** Answers with what reached it: the edge's parse of the body, if any. */
  const echo = httpApiEdge(
    async (req) => {
      const parsed = req.parsedJson;
      return jsonResponse(200, parsed === undefined ? { parsed: 'none' } : parsed.ok ? { value: parsed.value } : { refused: parsed.error.toBody() });
    },
    { maxBodyBytes: LIMIT, logger: silentLogger, parseJson: true },
  );
  const call = async (spec: HttpApiRequestSpec) => {
    const result = await echo(httpApiEvent(spec), {} as Context);
    return { status: result.statusCode, headers: result.headers ?? {}, body: JSON.parse(String(result.body)) as Record<string, unknown> };
  };

  it('hands the JSON body middy parsed to the handler (base64 or not, any header case)', async () => {
    expect((await call({ method: 'POST', path: '/x', headers: { 'Content-Type': 'application/json' }, body: '{"a":1}' })).body).toEqual({ value: { a: 1 } });
    expect((await call({ method: 'PUT', path: '/x', headers: { 'content-type': 'application/merge-patch+json' }, body: Buffer.from('[2]') })).body).toEqual({
      value: [2],
    });
  });

  it('hands a refused body on as the refusal, for the handler to answer at its own step', async () => {
    const malformed = await call({ method: 'POST', path: '/x', headers: { 'content-type': 'application/json' }, body: '{"a":' });
    expect(malformed.body).toMatchObject({
      refused: { error: { code: 'invalid_json', message: expect.stringMatching(/^The request body is not valid JSON: /) } },
    });
    const text = await call({ method: 'POST', path: '/x', headers: { 'content-type': 'text/plain' }, body: 'a=1' });
    expect(text.body).toMatchObject({ refused: { error: { code: 'unsupported_media_type' } } });
  });

  it('parses nothing without a body, or on a method that carries none', async () => {
    expect((await call({ method: 'POST', path: '/x' })).body).toEqual({ parsed: 'none' });
    expect((await call({ method: 'DELETE', path: '/x', headers: { 'content-type': 'text/plain' }, body: 'x' })).body).toEqual({ parsed: 'none' });
  });

  it('answers 413 before the handler for a body over the limit, uncacheable', async () => {
    const res = await call({ method: 'POST', path: '/x', headers: { 'content-type': 'application/json' }, body: `"${'x'.repeat(LIMIT)}"` });
    expect(res.status).toBe(413);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it("turns anything the handler throws into OpenAI's error JSON, without its text", async () => {
    const failing = httpApiEdge(
      async () => {
        throw new Error('secret internals');
      },
      { maxBodyBytes: LIMIT, logger: silentLogger, parseJson: true },
    );
    const result = await failing(httpApiEvent({ method: 'GET', path: '/x' }), {} as Context);
    expect(result.statusCode).toBe(500);
    expect(result.headers?.['cache-control']).toBe('no-store');
    expect(JSON.parse(String(result.body))).toEqual({ error: { message: expect.any(String), type: 'api_error', param: null, code: 'internal_error' } });
    expect(String(result.body)).not.toContain('secret internals');
  });
});
