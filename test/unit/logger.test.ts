// The JSON log line: the same text JSON.stringify of the whole record with the redacting replacer
// gives, whatever the fields hold, one write per line, stamped with the clock it is given.
import { createJsonLogger, type LogFields } from '../../functions/core/logger';
import { redactingReplacer } from '../../functions/core/redact';

const NOW = Date.UTC(2026, 11, 3, 12, 8, 5, 42);

/** The line as the record serialized in one piece: what every reader of the logs parses. */
const reference = (time: number, level: string, message: string, fields?: LogFields): string =>
  `${JSON.stringify({ time: new Date(time).toISOString(), level, message, ...fields }, redactingReplacer)}\n`;

function lines(fields: LogFields | undefined, message = 'request completed', now = (): number => NOW): string[] {
  const out: string[] = [];
  createJsonLogger('debug', (l) => out.push(l), now).info(message, fields);
  return out;
}

describe('createJsonLogger', () => {
  it.each<[string, LogFields | undefined]>([
    ['no fields', undefined],
    [
      'the access line',
      {
        request_id: '3f1c2a9e-5b7d-4e21-9c3a-1',
        tenant: 'default',
        provider: 'openai',
        model: 'gpt-4o-mini',
        status: 200,
        stream: false,
        cache_hit: false,
        latency_ms: 12,
        prompt_tokens: 9,
        completion_tokens: 12,
        cost_usd: 0.0000085,
        estimated: true,
      },
    ],
    ['a refusal', { request_id: 'r1', correlation_id: 'c-1', method: 'POST', path: '/v1/x', status: 401, code: null, latency_ms: 0 }],
    ['text JSON escapes', { path: '/a"b\\c\n\t\u0001\u007f', model: 'modèle-😀', odd: 'lone \ud800 surrogate', empty: '' }],
    ['key-shaped text', { path: '/v1/chat?key=sk-live-4f9a8b7c6d5e', error: 'Authorization: bearer abc.def.ghi-123', id: 'AKIAIOSFODNN7EXAMPLE' }],
    ['secret fields of every type', { authorization: 'Bearer x', token: 5, password: true, messages: [{ role: 'user' }], prompt: null, secret: undefined }],
    ['numbers JSON cannot write', { a: Number.NaN, b: Number.POSITIVE_INFINITY, c: -0, d: 1e21, e: -1.5e-7 }],
    ['values JSON leaves out', { a: undefined, b: () => 1, c: Symbol('s'), d: 1 }],
    [
      'objects',
      {
        when: new Date(NOW),
        details: { nested: { api_key: 'k', note: 'gw-0123456789abcdef' }, list: [1, 'sk-proj-AbCdEf123456'] },
        none: { toJSON: () => undefined },
      },
    ],
    ['fields named like the line own', { message: 'other', time: 'then', status: 1 }],
    ['names that need escaping or sort first', { 'a"b': 1, 'x-api-key': 'k', '2': 'two', b: 2 }],
  ])('writes %s exactly as JSON.stringify would', (_case, fields) => {
    expect(lines(fields)).toEqual([reference(NOW, 'info', 'request completed', fields)]);
  });

  it('redacts and escapes the message', () => {
    const message = 'upstream said "no" to sk-live-4f9a8b7c6d5e';
    expect(lines({ status: 502 }, message)).toEqual([reference(NOW, 'info', message, { status: 502 })]);
  });

  it('stamps each line with its clock, milliseconds padded, across seconds', () => {
    const times = [NOW - 42, NOW - 37, NOW + 8, NOW + 957, NOW + 958, NOW + 1000, Date.UTC(1969, 11, 31, 23, 59, 59, 999)];
    let i = 0;
    const out: string[] = [];
    const logger = createJsonLogger(
      'info',
      (l) => out.push(l),
      () => times[i++]!,
    );
    for (const _ of times) logger.warn('tick');
    expect(out.map((l) => JSON.parse(l).time)).toEqual(times.map((t) => new Date(t).toISOString()));
  });

  it('writes levels at or above its own, one write per line', () => {
    const out: string[] = [];
    const logger = createJsonLogger(
      'warn',
      (l) => out.push(l),
      () => NOW,
    );
    logger.debug('d');
    logger.info('i');
    logger.warn('w', { n: 1 });
    logger.error('e');
    expect(out).toEqual([reference(NOW, 'warn', 'w', { n: 1 }), reference(NOW, 'error', 'e')]);
    expect(logger.enabled?.('info')).toBe(false);
    expect(logger.enabled?.('error')).toBe(true);
  });

  it('refuses a BigInt field as JSON does', () => {
    expect(() => lines({ big: BigInt(1) })).toThrow(TypeError);
  });
});
