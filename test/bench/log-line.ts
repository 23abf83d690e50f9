// `npx tsx test/bench/log-line.ts`: ns per access line, in process, for the JSON logger as built
// and for the plain `JSON.stringify({ time, level, message, ...fields }, redactingReplacer)` line
// it must equal. The write is a no-op, so only building the line is measured.
import { logAccess } from '../../functions/core/access-log';
import type { LogLevel } from '../../functions/config';
import { createJsonLogger, type LogFields, type Logger } from '../../functions/core/logger';
import { redactingReplacer } from '../../functions/core/redact';

const LINES = Number(process.env.LOG_BENCH_LINES ?? 200_000);
const ROUNDS = 5;

/** The line as one JSON.stringify of the merged record: the reference the logger must match. */
function stringifyLogger(level: LogLevel, write: (line: string) => void): Logger {
  const log =
    (lvl: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      if (lvl === 'debug' && level !== 'debug') return;
      write(`${JSON.stringify({ time: new Date().toISOString(), level: lvl, message, ...fields }, redactingReplacer)}\n`);
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), enabled: (lvl) => lvl !== 'debug' || level === 'debug' };
}

/** What the accountant writes per completed request. */
const completed = (i: number): LogFields => ({
  request_id: `3f1c2a9e-5b7d-4e21-9c3a-${String(100000000000 + i)}`,
  tenant: 'default',
  provider: 'openai',
  model: 'gpt-4o-mini',
  status: 200,
  stream: false,
  cache_hit: false,
  latency_ms: 3 + (i % 7),
  prompt_tokens: 9,
  completion_tokens: 12,
  cost_usd: 0.0000085,
});

function nsPerLine(logger: Logger, line: (logger: Logger, i: number) => void): number {
  const best: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < LINES; i++) line(logger, i);
    best.push(Number(process.hrtime.bigint() - t0) / LINES);
  }
  return Math.min(...best);
}

let bytes = 0;
const sink = (l: string): void => {
  bytes += l.length;
};
const cases: Array<[string, (logger: Logger, i: number) => void]> = [
  ['request completed', (lg, i) => lg.info('request completed', completed(i))],
  [
    'request refused (logAccess)',
    (lg, i) => logAccess(lg, { method: 'POST', path: '/v1/chat/completions' }, { requestId: `req-${i}`, status: 401, code: 'invalid_api_key', latencyMs: 1 }),
  ],
];
const a = createJsonLogger('info', (l) => sink(l));
const b = stringifyLogger('info', (l) => sink(l));
// Same text, or the comparison means nothing (the time stamp aside).
const probe: string[] = [];
createJsonLogger(
  'info',
  (l) => probe.push(l),
  () => 1764763685123,
).info('request completed', completed(1));
stringifyLogger('info', (l) => probe.push(l.replace(/"time":"[^"]*"/, '"time":"2025-12-03T12:08:05.123Z"'))).info('request completed', completed(1));
if (probe[0] !== probe[1]) throw new Error(`lines differ:\n${probe[0]}${probe[1]}`);

console.log(`node ${process.version}, ${LINES} lines x ${ROUNDS} rounds, best round`);
for (const [name, line] of cases) {
  const ref = nsPerLine(b, line);
  const cur = nsPerLine(a, line);
  console.log(
    `${name.padEnd(30)} JSON.stringify ${ref.toFixed(0).padStart(6)} ns   logger ` +
      `${cur.toFixed(0).padStart(6)} ns   (${((1 - cur / ref) * 100).toFixed(0)}% less)`,
  );
}
if (bytes === 0) console.log('nothing written');
