import { StoreConflictError } from '../../functions/core/ports';
import { GatewayError } from '../../functions/core/errors';
import { silentLogger, type Logger } from '../../functions/core/logger';
import { toAdminError } from '../../functions/admin/error-response';
import { fromParserError } from '../../functions/adapters/lambda/http-api-edge';

// The shape of @middy/util's HttpError (what @middy/http-json-body-parser throws); the
// integration tests drive the real parser.
function createError(statusCode: number, message: string, opts: { cause: Record<string, unknown> }): Error {
  return Object.assign(new Error(message, opts), { statusCode, status: statusCode, expose: true });
}

const parserError = (message?: string) =>
  createError(415, 'Invalid or malformed JSON was provided', {
    cause: { package: '@middy/http-json-body-parser', data: 'body', ...(message ? { message } : {}) },
  });

describe("the Lambda edge's JSON body parser refusals (fromParserError)", () => {
  it('malformed JSON (Node 20 wording) → 400 quoting the parser', () => {
    const err = fromParserError(parserError('Unexpected token } in JSON at position 10'))!;
    expect([err.status, err.code, err.message]).toEqual([
      400,
      'invalid_json',
      'The request body is not valid JSON: Unexpected token } in JSON at position 10.',
    ]);
  });

  it('malformed JSON (newer wording that quotes the body) → 400 with the position only', () => {
    const err = fromParserError(parserError('Unexpected token \'}\', "{"password":"hunter2hunter2"}" is not valid JSON at position 30'))!;
    expect(err.status).toBe(400);
    expect(err.message).toBe('The request body is not valid JSON: malformed JSON at position 30.');
    expect(err.message).not.toContain('hunter2');
  });

  it('a wrong content type → 415', () => {
    const err = fromParserError(createError(415, 'Unsupported Media Type', { cause: { package: '@middy/http-json-body-parser', data: 'text/plain' } }))!;
    expect([err.status, err.code]).toEqual([415, 'unsupported_media_type']);
  });

  it('anything not thrown by the parser is not its refusal', () => {
    expect(fromParserError(new Error('other'))).toBeUndefined();
  });
});

describe('toAdminError', () => {
  it('passes GatewayErrors through', () => {
    const err = new GatewayError(403, 'no');
    expect(toAdminError(err, silentLogger)).toBe(err);
  });

  it('a stray StoreConflictError → 409', () => {
    expect(toAdminError(new StoreConflictError('x'), silentLogger).status).toBe(409);
  });

  it('anything else → 500 without internals, logged', () => {
    const lines: string[] = [];
    const logger: Logger = { ...silentLogger, error: (m, f) => void lines.push(`${m} ${JSON.stringify(f)}`) };
    const err = toAdminError(new Error('secret internals'), logger);
    expect(err.status).toBe(500);
    expect(JSON.stringify(err.toBody())).not.toContain('secret internals');
    expect(lines.join('\n')).toContain('secret internals');
  });
});
