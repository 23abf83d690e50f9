// The web console's static files at /console/ from one directory (CONSOLE_DIR): the local server
// and the admin function serve them, so the console shares the admin API's origin and needs no
// CORS. index.html is never cached (it names the current assets); files whose names carry a
// content hash are cached for a year. A path that is not a file and does not look like an asset
// is the single-page app's own route: index.html answers it. Only files under the directory are
// ever read: every segment is checked, and the resolved real path must stay inside. Text goes
// gzipped to clients that take it (API Gateway compresses nothing itself).
import { createHash } from 'node:crypto';
import { readFile, realpath, stat } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { extname, join, sep } from 'node:path';
import type { ApiHandler, ApiRequest, ApiResponse } from '../core/api-types';
import { GatewayError, notFound } from '../core/errors';

export const CONSOLE_PREFIX = '/console';

/** True for /console and everything under /console/. */
export const isConsolePath = (path: string): boolean => path === CONSOLE_PREFIX || path.startsWith(`${CONSOLE_PREFIX}/`);

const TYPES: Readonly<Record<string, { type: string; binary: boolean }>> = {
  '.html': { type: 'text/html; charset=utf-8', binary: false },
  '.js': { type: 'text/javascript; charset=utf-8', binary: false },
  '.mjs': { type: 'text/javascript; charset=utf-8', binary: false },
  '.css': { type: 'text/css; charset=utf-8', binary: false },
  '.json': { type: 'application/json', binary: false },
  '.map': { type: 'application/json', binary: false },
  '.webmanifest': { type: 'application/manifest+json', binary: false },
  '.svg': { type: 'image/svg+xml', binary: false },
  '.txt': { type: 'text/plain; charset=utf-8', binary: false },
  '.png': { type: 'image/png', binary: true },
  '.ico': { type: 'image/x-icon', binary: true },
  '.webp': { type: 'image/webp', binary: true },
  '.woff2': { type: 'font/woff2', binary: true },
};

/** Self only: no inline script or style, no other origin, not framed. */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const NO_CACHE = 'no-cache';
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** `app-3F2A9C1B.js`, `chunk.5d41402abc.css`: a name carrying a content hash of 8+ characters. */
const HASHED_NAME = /[.-][A-Za-z0-9_]{8,}\.[a-z0-9]+$/;
/** Segments that never name a console file. */
const BAD_SEGMENT = /^\.|[\\/\0:]/;
const MAX_FILE_BYTES = 5 * 1024 * 1024;

export interface ConsoleFilesOptions {
  /** The built console (its index.html and assets). */
  dir: string;
}

/** The handler for /console and /console/…; 404 for everything when no build is there. */
export function consoleFiles(opts: ConsoleFilesOptions): ApiHandler {
  const root = opts.dir;
  const compressed = new GzipCache();
  return async (req) => {
    try {
      const method = req.method.toUpperCase();
      if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed(method, req.path);
      if (req.path === CONSOLE_PREFIX) return redirect(req);
      const segments = consoleSegments(req.path);
      if (segments === null) throw notFound(`No console file at ${req.path}.`);
      const rootReal = await realpath(root).catch(() => null);
      const index = rootReal === null ? null : await readInside(rootReal, ['index.html']);
      if (rootReal === null || index === null) throw notFound(`The console is not built: no index.html in ${root}.`);
      const send = (name: string, bytes: Buffer): ApiResponse => file(name, bytes, acceptsGzip(req) ? compressed : undefined);
      if (segments.length === 0 || (segments.length === 1 && segments[0] === 'index.html')) return send('index.html', index);
      const found = await readInside(rootReal, segments);
      if (found !== null) return send(segments[segments.length - 1] as string, found);
      // An asset that is missing is a 404; any other path is a route of the app itself.
      if (extname(segments[segments.length - 1] as string) !== '') throw notFound(`No console file at ${req.path}.`);
      return send('index.html', index);
    } catch (err) {
      const error = err instanceof GatewayError ? err : notFound(`No console file at ${req.path}.`);
      return {
        status: error.status,
        headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...SECURITY_HEADERS, ...error.headers },
        body: JSON.stringify(error.toBody()),
      };
    }
  };
}

/** The decoded segments after /console/, or null when any could step outside or is not a plain name. */
function consoleSegments(path: string): string[] | null {
  const rest = path.slice(CONSOLE_PREFIX.length + 1);
  if (rest === '') return [];
  const raw = rest.split('/');
  if (raw[raw.length - 1] === '') raw.pop(); // a trailing slash
  const out: string[] = [];
  for (const part of raw) {
    let name: string;
    try {
      name = decodeURIComponent(part);
    } catch {
      return null;
    }
    if (name === '' || BAD_SEGMENT.test(name)) return null;
    out.push(name);
  }
  return out;
}

/** A regular file's bytes under `root` (a real path), or null; a symlink leading outside counts as absent. */
async function readInside(root: string, segments: readonly string[]): Promise<Buffer | null> {
  const target = await realpath(join(root, ...segments)).catch(() => null);
  if (target === null || !target.startsWith(root + sep)) return null;
  const info = await stat(target).catch(() => null);
  if (!info?.isFile() || info.size > MAX_FILE_BYTES) return null;
  return readFile(target);
}

/** `gzip`: the cache to compress text through, when the client takes gzip. */
function file(name: string, bytes: Buffer, gzip?: GzipCache): ApiResponse {
  const kind = TYPES[extname(name).toLowerCase()] ?? { type: 'application/octet-stream', binary: true };
  const cache = name === 'index.html' || !HASHED_NAME.test(name) ? NO_CACHE : IMMUTABLE;
  const headers: Record<string, string> = { 'content-type': kind.type, 'cache-control': cache, vary: 'accept-encoding', ...SECURITY_HEADERS };
  if (!kind.binary && gzip && bytes.length >= MIN_GZIP_BYTES) {
    return { status: 200, headers: { ...headers, 'content-encoding': 'gzip' }, body: gzip.get(bytes).toString('base64'), bodyEncoding: 'base64' };
  }
  return kind.binary
    ? { status: 200, headers, body: bytes.toString('base64'), bodyEncoding: 'base64' }
    : { status: 200, headers, body: bytes.toString('utf8') };
}

/** Smaller text goes as it is: gzip would save next to nothing. */
const MIN_GZIP_BYTES = 1024;
const MAX_GZIP_COPIES = 64;

function acceptsGzip(req: ApiRequest): boolean {
  return /\bgzip\b/i.test(req.headers['accept-encoding'] ?? '');
}

/**
 * Compressed copies by content (a SHA-256 of the bytes), so a file is compressed once per process
 * however often it is asked for, and a rebuilt file is compressed afresh. Bounded: a console is a
 * handful of files.
 */
class GzipCache {
  private readonly copies = new Map<string, Buffer>();

  get(bytes: Buffer): Buffer {
    const key = createHash('sha256').update(bytes).digest('base64');
    let gz = this.copies.get(key);
    if (!gz) {
      gz = gzipSync(bytes, { level: 9 });
      if (this.copies.size >= MAX_GZIP_COPIES) this.copies.clear();
      this.copies.set(key, gz);
    }
    return gz;
  }
}

/** /console → /console/ (relative links in index.html resolve under it), the query kept. */
function redirect(req: ApiRequest): ApiResponse {
  const query = req.query.toString();
  return {
    status: 308,
    headers: { location: `${CONSOLE_PREFIX}/${query === '' ? '' : `?${query}`}`, 'cache-control': NO_CACHE, ...SECURITY_HEADERS },
    body: '',
  };
}

const methodNotAllowed = (method: string, path: string): GatewayError =>
  new GatewayError(405, `Method ${method} is not allowed on ${path}; allowed: GET, HEAD.`, {
    type: 'invalid_request_error',
    code: 'method_not_allowed',
    headers: { allow: 'GET, HEAD' },
  });
