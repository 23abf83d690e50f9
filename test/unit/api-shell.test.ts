// The shell every API route is served in: path matching, the body limit, error JSON with the
// request's ids, the API headers, and one access line per request.
import { serveRoutes, type AccessPolicy, type RouteTable } from '../../functions/core/api-shell';
import { jsonResponse, type ApiRequest } from '../../functions/core/api-types';
import { CancelSignal } from '../../functions/core/cancel';
import { GatewayError } from '../../functions/core/errors';
import type { Logger } from '../../functions/core/logger';

const req = (method: string, path: string, extra: Partial<ApiRequest> = {}): ApiRequest => ({
  method,
  path,
  query: new URLSearchParams(),
  headers: {},
  body: Buffer.alloc(0),
  signal: new CancelSignal(),
  ...extra,
});

function setup(routes: RouteTable, access?: AccessPolicy) {
  const lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, fields });
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  let clock = 1000;
  const api = serveRoutes(routes, { logger, now: () => (clock += 5), maxBodyBytes: 8, access, notFoundHint: 'This API serves GET /ok.' });
  return { api, lines };
}

const ROUTES: RouteTable = {
  '/ok': { GET: async (_req, ids) => jsonResponse(200, { id: ids.requestId }) },
  '/refuse': {
    POST: async () => {
      throw new GatewayError(429, 'slow down', { code: 'rate_limit_exceeded', headers: { 'retry-after': '3' } });
    },
  },
  '/crash': {
    GET: async () => {
      throw new Error('secret internals');
    },
  },
};

describe('serveRoutes', () => {
  it('serves a route (one trailing slash forgiven) with the request id and the API headers', async () => {
    const { api } = setup(ROUTES);
    const res = await api(req('GET', '/ok/'));
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({ 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'x-request-id': expect.stringMatching(/^req-/) });
    expect(JSON.parse(String(res.body))).toEqual({ id: res.headers['x-request-id'] });
  });

  it('a /* route serves every path past its prefix, the longest prefix first; an exact path wins', async () => {
    const echo = (name: string) => async (r: ApiRequest) => jsonResponse(200, { name, path: r.path });
    const { api } = setup({
      '/items': { GET: echo('list') },
      '/items/*': { GET: echo('item') },
      '/items/special/*': { GET: echo('special') },
    });
    const served = async (path: string) => JSON.parse(String((await api(req('GET', path))).body)).name as string;
    expect(await served('/items')).toBe('list');
    expect(await served('/items/')).toBe('list');
    expect(await served('/items/a/b:c')).toBe('item');
    expect(await served('/items/special/x')).toBe('special');
    expect((await api(req('GET', '/itemsx'))).status).toBe(404);
    const wrong = await api(req('POST', '/items/a'));
    expect([wrong.status, wrong.headers.allow]).toEqual([405, 'GET']);
  });

  it('404 naming what the API serves; 405 with Allow; 413 over the body limit', async () => {
    const { api } = setup(ROUTES);
    const missing = await api(req('GET', '/v1/models'));
    expect([missing.status, JSON.parse(String(missing.body)).error.message]).toEqual([404, 'Unknown path: GET /v1/models. This API serves GET /ok.']);
    const wrong = await api(req('DELETE', '/ok'));
    expect([wrong.status, wrong.headers.allow]).toEqual([405, 'GET']);
    const large = await api(req('GET', '/ok', { body: Buffer.alloc(9) }));
    expect([large.status, JSON.parse(String(large.body)).error.code]).toEqual([413, 'request_too_large']);
  });

  it('a refusal keeps its headers and carries the request and correlation ids', async () => {
    const { api } = setup(ROUTES);
    const res = await api(req('POST', '/refuse', { headers: { 'x-request-id': 'client-42' } }));
    expect(res.status).toBe(429);
    expect(res.headers).toMatchObject({ 'retry-after': '3', 'x-correlation-id': 'client-42', 'cache-control': 'no-store' });
    expect(JSON.parse(String(res.body))).toEqual({ error: { message: 'slow down', type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' } });
  });

  it('an unexpected failure is a 500 without its text, logged once with the stack', async () => {
    const { api, lines } = setup(ROUTES);
    const res = await api(req('GET', '/crash'));
    expect(res.status).toBe(500);
    expect(String(res.body)).not.toContain('secret internals');
    expect(lines.filter((l) => l.message === 'unhandled error')).toHaveLength(1);
  });

  it('writes one access line per request, ids and status only', async () => {
    const { api, lines } = setup(ROUTES);
    const ok = await api(req('GET', '/ok', { query: new URLSearchParams('key=secret') }));
    await api(req('GET', '/nowhere'));
    const access = lines.filter((l) => l.message.startsWith('request '));
    expect(access.map((l) => [l.message, l.fields?.status, l.fields?.path])).toEqual([
      ['request served', 200, '/ok'],
      ['request refused', 404, '/nowhere'],
    ]);
    expect(access[0]?.fields).toMatchObject({ request_id: ok.headers['x-request-id'], latency_ms: 5 });
    expect(JSON.stringify(access)).not.toContain('secret');
  });

  it('leaves the access line to whoever the policy names', async () => {
    const begun: string[] = [];
    const { api, lines } = setup(ROUTES, { begin: (ids) => void begun.push(ids.requestId), shellLogs: (_path, _ids, failed) => failed });
    const ok = await api(req('GET', '/ok'));
    await api(req('DELETE', '/ok'));
    expect(begun).toHaveLength(2);
    expect(begun[0]).toBe(ok.headers['x-request-id']);
    expect(lines.filter((l) => l.message.startsWith('request ')).map((l) => l.fields?.status)).toEqual([405]);
  });
});
