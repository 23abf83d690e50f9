// An open-loop paced client in the bench process for the outage section: requests go out on a
// fixed schedule (rate × duration, round-robin over the targets) whether or not earlier ones have
// answered, so a slow gateway does not lower the offered load, and every request is recorded with
// its send time, latency, status and cost. Timed events (kill the store, restart it) run on the
// same clock. Bounded: a fixed number of requests, each destroyed after its own timeout.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { assertLocal } from './http-util';

export interface LoadTarget {
  /** Full URL of the chat completions route. */
  url: string;
  /** Authorization header value. */
  auth: string;
}

export interface Sample {
  seq: number;
  /** Index into the targets. */
  target: number;
  /** When the request was sent, ms after the start of the schedule. */
  sendMs: number;
  /** How far behind its slot it was sent (client-side lag, not the gateway's). */
  lateMs: number;
  /** From send to the end of the response (or the error). */
  latencyMs: number;
  /** HTTP status; 0 when no response arrived (timeout, connection error). */
  status: number;
  /** error.code (or type) of a non-2xx answer, or the client error's code. */
  error?: string;
  /** x_gateway.cost_usd of a 2xx answer. */
  costUsd?: number;
}

export interface TimedEvent {
  name: string;
  atMs: number;
  run: () => Promise<void>;
}

export interface EventTimes {
  name: string;
  /** When it started and when its promise settled, ms after the start of the schedule. */
  startMs: number;
  doneMs: number;
}

export interface LoadOptions {
  targets: LoadTarget[];
  rate: number;
  durationS: number;
  body: (seq: number) => string;
  timeoutMs: number;
  events?: TimedEvent[];
}

export interface LoadResult {
  samples: Sample[];
  events: EventTimes[];
  /** Date.now() at the start of the schedule (to place the gateways' log lines on the same clock). */
  startEpochMs: number;
}

/** Keep-alive agents, one per target, so the load measures requests, not TCP handshakes. */
export function agentsFor(targets: LoadTarget[]): http.Agent[] {
  return targets.map(() => new http.Agent({ keepAlive: true, maxSockets: 256 }));
}

/** One POST; always resolves (failures become status 0 with the error's code). */
export function post(target: LoadTarget, agent: http.Agent, body: string, timeoutMs: number): Promise<{ status: number; body: string; error?: string }> {
  const u = assertLocal(target.url);
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: { status: number; body: string; error?: string }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = http.request(
      u,
      {
        method: 'POST',
        agent,
        headers: { authorization: target.auth, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      },
      (res) => {
        res.setEncoding('utf8');
        let text = '';
        res.on('data', (c: string) => (text += c));
        res.on('end', () => done({ status: res.statusCode ?? 0, body: text }));
        res.on('error', (err: NodeJS.ErrnoException) => done({ status: 0, body: '', error: err.code ?? err.message }));
      },
    );
    // A whole-request deadline (a socket timeout would not cover time queued in the agent).
    const timer = setTimeout(() => {
      done({ status: 0, body: '', error: 'client_timeout' });
      req.destroy();
    }, timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => done({ status: 0, body: '', error: err.code ?? err.message }));
    req.end(body);
  });
}

/** What a sample keeps of an answer: the cost of a 2xx, the error code of anything else. */
export function describeAnswer(status: number, body: string): { costUsd?: number; error?: string } {
  try {
    const json = JSON.parse(body) as { x_gateway?: { cost_usd?: unknown }; error?: { code?: unknown; type?: unknown } };
    if (status >= 200 && status < 300) {
      const cost = json.x_gateway?.cost_usd;
      return typeof cost === 'number' ? { costUsd: cost } : { error: 'no_cost_in_answer' };
    }
    const code = json.error?.code ?? json.error?.type;
    return { error: typeof code === 'string' ? code : 'unknown' };
  } catch {
    return { error: status >= 200 && status < 300 ? 'unparsable_answer' : 'non_json_error' };
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runPacedLoad(o: LoadOptions): Promise<LoadResult> {
  for (const t of o.targets) assertLocal(t.url);
  const agents = agentsFor(o.targets);
  const total = Math.round(o.rate * o.durationS);
  const intervalMs = 1000 / o.rate;
  const samples: Sample[] = [];
  const inFlight: Array<Promise<void>> = [];
  const eventTimes: EventTimes[] = [];
  const eventRuns: Array<Promise<void>> = [];
  const pendingEvents = [...(o.events ?? [])].sort((a, b) => a.atMs - b.atMs);
  const t0 = performance.now();
  const startEpochMs = Date.now();
  const clock = (): number => performance.now() - t0;

  const send = (seq: number, slotMs: number): void => {
    const target = seq % o.targets.length;
    const sendMs = clock();
    const p = post(o.targets[target]!, agents[target]!, o.body(seq), o.timeoutMs).then((r) => {
      const latencyMs = clock() - sendMs;
      const answer = r.status === 0 ? { error: r.error ?? 'client_error' } : describeAnswer(r.status, r.body);
      samples.push({ seq, target, sendMs, lateMs: Math.max(0, sendMs - slotMs), latencyMs, status: r.status, ...answer });
    });
    inFlight.push(p);
  };
  let eventError: unknown;
  const fire = (e: TimedEvent): void => {
    const startMs = clock();
    // Handled at once (an unhandled rejection would end the process); rethrown after the load.
    eventRuns.push(
      e.run().then(
        () => void eventTimes.push({ name: e.name, startMs, doneMs: clock() }),
        (err: unknown) => void (eventError ??= new Error(`${e.name} failed: ${err instanceof Error ? err.message : String(err)}`)),
      ),
    );
  };

  let next = 0;
  while (next < total) {
    const now = clock();
    while (pendingEvents.length > 0 && pendingEvents[0]!.atMs <= now) fire(pendingEvents.shift()!);
    // Catch up on every slot already due (a late timer must not lower the offered rate).
    while (next < total && next * intervalMs <= now) {
      send(next, next * intervalMs);
      next++;
    }
    if (next < total) await sleep(Math.max(0, next * intervalMs - clock()));
  }
  // Events scheduled after the last slot still run (bounded by the caller's choice of times).
  for (const e of pendingEvents) {
    await sleep(Math.max(0, e.atMs - clock()));
    fire(e);
  }
  await Promise.all(inFlight);
  await Promise.all(eventRuns);
  for (const a of agents) a.destroy();
  if (eventError !== undefined) throw eventError;
  samples.sort((a, b) => a.seq - b.seq);
  return { samples, events: eventTimes, startEpochMs };
}
