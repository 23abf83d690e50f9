// Streaming time-to-first-byte: sequential streamed chat completions over one keep-alive
// connection, timing from request start until the first body bytes containing "data:" arrive.
// The whole stream is read and its content chunks counted, so a path that buffers or drops
// chunks is caught rather than measured.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { assertLocal } from './http-util';
import { percentile } from './stats';

export interface StreamRun {
  p50: number;
  p99: number;
  /** Successful (status 200) streams, each contributing one TTFB sample. */
  samples: number;
  badStatus: number;
  /** 200 streams whose content-chunk count differed from expectChunks. */
  chunkMismatches: number;
  minContentChunks: number;
  maxContentChunks: number;
  firstFailure?: string;
}

interface OneStream {
  status: number;
  ttfbMs: number;
  contentChunks: number;
  text: string;
}

function streamOnce(u: URL, body: string, auth: string, agent: http.Agent, timeoutMs: number): Promise<OneStream> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let ttfbMs = Number.NaN;
    const req = http.request(
      u,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          authorization: auth,
        },
      },
      (res) => {
        res.setEncoding('utf8');
        let text = '';
        res.on('data', (c: string) => {
          text += c;
          // Checked on the accumulated text: "data:" may be split across two reads.
          if (Number.isNaN(ttfbMs) && text.includes('data:')) ttfbMs = performance.now() - t0;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ttfbMs, contentChunks: countContentChunks(text), text }));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`stream timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Number of SSE events carrying a non-empty choices[0].delta.content. */
export function countContentChunks(sse: string): number {
  let n = 0;
  for (const line of sse.split('\n')) {
    if (!line.startsWith('data:')) continue;
    const data = line.slice(5).trim();
    if (data === '[DONE]') continue;
    try {
      const ev = JSON.parse(data) as { choices?: Array<{ delta?: { content?: unknown } }> };
      const content = ev.choices?.[0]?.delta?.content;
      if (typeof content === 'string' && content.length > 0) n++;
    } catch {
      // Not JSON: not a content chunk.
    }
  }
  return n;
}

export async function measureStreamTtfb(o: {
  url: string;
  auth: string;
  body: string;
  count: number;
  expectChunks: number;
  warmup: number;
}): Promise<StreamRun> {
  const u = assertLocal(o.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const samples: number[] = [];
  let badStatus = 0;
  let chunkMismatches = 0;
  let minContentChunks = Number.POSITIVE_INFINITY;
  let maxContentChunks = 0;
  let firstFailure: string | undefined;
  try {
    for (let i = 0; i < o.warmup + o.count; i++) {
      const r = await streamOnce(u, o.body, o.auth, agent, 10_000);
      if (i < o.warmup) continue;
      if (r.status !== 200 || Number.isNaN(r.ttfbMs)) {
        badStatus++;
        firstFailure ??= `status ${r.status}: ${r.text.slice(0, 300)}`;
        continue;
      }
      // A chunk-count mismatch is reported, but the TTFB sample is still valid.
      if (r.contentChunks !== o.expectChunks) {
        chunkMismatches++;
        firstFailure ??= `${r.contentChunks} content chunks instead of ${o.expectChunks}: ${r.text.slice(0, 300)}`;
      }
      minContentChunks = Math.min(minContentChunks, r.contentChunks);
      maxContentChunks = Math.max(maxContentChunks, r.contentChunks);
      samples.push(r.ttfbMs);
    }
  } finally {
    agent.destroy();
  }
  return {
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    samples: samples.length,
    badStatus,
    chunkMismatches,
    minContentChunks: samples.length > 0 ? minContentChunks : 0,
    maxContentChunks,
    firstFailure,
  };
}
