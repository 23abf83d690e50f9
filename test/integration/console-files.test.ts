// The web console's static files at /console/ on the local server, over real sockets, from a
// console build in a temporary CONSOLE_DIR: types, caching, security headers, the single-page
// app's fallback, the redirect, and no way out of the directory.
import http from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { loadConfig } from '../../functions/config';
import { silentLogger } from '../../functions/core/logger';
import { CONSOLE_CSP } from '../../functions/admin/console-files';
import { startLocalGateway, type LocalGateway } from '../../functions/local/app';

const INDEX = '<!doctype html><title>console</title><script type="module" src="./app-3F2A9C1B.js"></script>';
const BIG_JS = `export const words = ${JSON.stringify(Array.from({ length: 400 }, (_, i) => `word${i}`))};\n`;
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff]);

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A request with the path exactly as given (fetch would normalise "..", which is the point). */
function rawGet(base: string, path: string, method = 'GET', headers: Record<string, string> = {}): Promise<Raw> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function start(consoleDir: string): Promise<LocalGateway> {
  const config = loadConfig({ ADDR: '127.0.0.1:0', CONSOLE_DIR: consoleDir }, () => '{}', 'test');
  return startLocalGateway(config, silentLogger);
}

describe('console files on the local server', () => {
  let work: string;
  let local: LocalGateway;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'console-files-'));
    const dir = join(work, 'console');
    mkdirSync(join(dir, 'assets'), { recursive: true });
    writeFileSync(join(dir, 'index.html'), INDEX);
    writeFileSync(join(dir, 'app-3F2A9C1B.js'), 'console.log("app");');
    writeFileSync(join(dir, 'assets', 'style.css'), 'body{margin:0}');
    writeFileSync(join(dir, 'favicon.png'), PNG);
    writeFileSync(join(dir, 'vendor-0A1B2C3D.js'), BIG_JS);
    writeFileSync(join(work, 'secret.txt'), 'outside the console');
    symlinkSync(join(work, 'secret.txt'), join(dir, 'leak.txt'));
    local = await start(dir);
  });
  afterAll(async () => {
    await local.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('serves index.html at /console/ without caching, with a self-only CSP and nosniff', async () => {
    const r = await rawGet(local.url, '/console/');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe(INDEX);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-cache');
    expect(r.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("default-src 'self'");
    expect(CONSOLE_CSP).not.toMatch(/unsafe|\*|https?:/);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['x-frame-options']).toBe('DENY');
  });

  it('redirects /console to /console/', async () => {
    const r = await rawGet(local.url, '/console?tab=audit');
    expect(r.status).toBe(308);
    expect(r.headers.location).toBe('/console/?tab=audit');
  });

  it('serves assets with their types; hashed names are immutable, others revalidate; binary files byte for byte', async () => {
    const js = await rawGet(local.url, '/console/app-3F2A9C1B.js');
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.body.toString()).toBe('console.log("app");');
    const css = await rawGet(local.url, '/console/assets/style.css');
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.headers['cache-control']).toBe('no-cache');
    const png = await rawGet(local.url, '/console/favicon.png');
    expect(png.headers['content-type']).toBe('image/png');
    expect(png.body.equals(PNG)).toBe(true);
    const head = await rawGet(local.url, '/console/app-3F2A9C1B.js', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
  });

  it('sends text gzipped to a client that takes gzip, and as it is otherwise', async () => {
    const gz = await rawGet(local.url, '/console/vendor-0A1B2C3D.js', 'GET', { 'accept-encoding': 'gzip, deflate, br' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers.vary).toBe('accept-encoding');
    expect(gz.body.length).toBeLessThan(Buffer.byteLength(BIG_JS) / 2);
    expect(gunzipSync(gz.body).toString()).toBe(BIG_JS);
    const plain = await rawGet(local.url, '/console/vendor-0A1B2C3D.js');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(BIG_JS);
    // Small files and binary ones are not worth it.
    const small = await rawGet(local.url, '/console/', 'GET', { 'accept-encoding': 'gzip' });
    expect(small.headers['content-encoding']).toBeUndefined();
  });

  it('answers the app’s own routes with index.html, and a missing asset with 404', async () => {
    for (const path of ['/console/tenants', '/console/tenants/acme-1', '/console/audit/']) {
      const r = await rawGet(local.url, path);
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe(INDEX);
    }
    const missing = await rawGet(local.url, '/console/app-00000000.js');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body.toString()).error.code).toBe('not_found');
  });

  it.each([
    '/console/../package.json',
    '/console/%2e%2e/package.json',
    '/console/..%2fpackage.json',
    '/console/assets/..%2F..%2Fsecret.txt',
    '/console/%2e%2e%2f%2e%2e%2fsecret.txt',
    '/console/..\\..\\secret.txt',
    '/console/.env',
    '/console/leak.txt',
    '/console/%00index.html',
  ])('never leaves the directory: %s', async (path) => {
    const r = await rawGet(local.url, path);
    expect(r.status).toBe(404);
    expect(r.body.toString()).not.toContain('outside the console');
    expect(r.body.toString()).not.toContain('"name": "ai-gateway"');
  });

  it('refuses writes with 405', async () => {
    const r = await rawGet(local.url, '/console/', 'POST');
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('GET, HEAD');
  });
});

describe('without a console build', () => {
  it('answers 404 naming the missing build, and the rest of the gateway still serves', async () => {
    const work = mkdtempSync(join(tmpdir(), 'console-none-'));
    const local = await start(join(work, 'nothing-here'));
    try {
      const r = await rawGet(local.url, '/console/');
      expect(r.status).toBe(404);
      expect(JSON.parse(r.body.toString()).error.message).toContain('not built');
      expect((await rawGet(local.url, '/health')).status).toBe(200);
    } finally {
      await local.close();
      rmSync(work, { recursive: true, force: true });
    }
  });
});
