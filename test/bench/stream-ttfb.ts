// Streaming time-to-first-byte: sequential streamed requests over one keep-alive connection,
// timing from request start until the body bytes received hold the first event (OpenAI SSE: the
// first "data:"; the Responses API: the first text delta; other wire formats: see wire-formats.ts).
// The whole stream is read, its content chunks counted and, when expected, its text compared, so
// a path that buffers, drops or garbles chunks is caught rather than measured.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { assertLocal } from './http-util';
import { percentile } from './stats';
import { openAiSse, type StreamFormat } from './wire-formats';

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
  /** 200 streams whose text differed from expectText, or that ended wrongly for their format. */
  textMismatches: number;
  firstFailure?: string;
}

interface OneStream {
  status: number;
  ttfbMs: number;
  contentChunks: number;
  /** The content chunks' text, joined. */
  content: string;
  /** What is wrong with how the body ends, for formats that say (wire-formats.ts). */
  endProblem: string | undefined;
  text: string;
}

function streamOnce(u: URL, body: string, headers: Record<string, string>, format: StreamFormat, agent: http.Agent, timeoutMs: number): Promise<OneStream> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let ttfbMs = Number.NaN;
    const req = http.request(
      u,
      {
        method: 'POST',
        agent,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => {
          parts.push(c);
          // Checked on all bytes so far: an event may be split across two reads.
          if (Number.isNaN(ttfbMs) && format.hasFirstEvent(parts.length === 1 ? c : Buffer.concat(parts))) ttfbMs = performance.now() - t0;
        });
        res.on('end', () => {
          const all = Buffer.concat(parts);
          const deltas = format.textDeltas(all);
          const content = deltas.join('');
          resolve({
            status: res.statusCode ?? 0,
            ttfbMs,
            contentChunks: deltas.length,
            content,
            endProblem: format.endProblem?.(all, content),
            text: all.toString('utf8'),
          });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`stream timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

export async function measureStreamTtfb(o: {
  url: string;
  /** Sent as the Authorization header, when given. */
  auth?: string;
  /** Further request headers (a provider's own auth, a SigV4 signature). */
  headers?: Record<string, string>;
  /** Wire format of the response; OpenAI SSE by default. */
  format?: StreamFormat;
  body: string;
  count: number;
  expectChunks: number;
  /** The whole text the content chunks must carry, when known. */
  expectText?: string;
  warmup: number;
}): Promise<StreamRun> {
  const u = assertLocal(o.url);
  const headers: Record<string, string> = { ...o.headers, ...(o.auth !== undefined ? { authorization: o.auth } : {}) };
  const format = o.format ?? openAiSse;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const samples: number[] = [];
  let badStatus = 0;
  let chunkMismatches = 0;
  let minContentChunks = Number.POSITIVE_INFINITY;
  let maxContentChunks = 0;
  let textMismatches = 0;
  let firstFailure: string | undefined;
  try {
    for (let i = 0; i < o.warmup + o.count; i++) {
      const r = await streamOnce(u, o.body, headers, format, agent, 10_000);
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
      const textProblem =
        o.expectText !== undefined && r.content !== o.expectText ? `text ${JSON.stringify(r.content.slice(0, 120))} is not the one sent` : r.endProblem;
      if (textProblem !== undefined) {
        textMismatches++;
        firstFailure ??= `${textProblem}: ${r.text.slice(0, 300)}`;
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
    textMismatches,
    firstFailure,
  };
}
