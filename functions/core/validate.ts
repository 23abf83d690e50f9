// Validation of client request bodies: each problem is a 400 that names the offending field.
// The chat request of each client API is checked by its ingress adapter (ingress/*).
import { badRequest } from './errors';
import { MAX_JSON_DEPTH, tooDeepPath } from './json-depth';
import type { EmbeddingsRequest } from './openai-types';

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses a JSON request body into an object, or throws a 400 describing what is wrong. */
export function parseJsonBody(body: Buffer): Json {
  if (body.length === 0) throw badRequest('The request body is empty; send a JSON object.');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw badRequest(`The request body is not valid JSON: ${(err as Error).message}.`);
  }
  if (!isObject(parsed)) throw badRequest('The request body must be a JSON object.');
  const deep = tooDeepPath(parsed, MAX_JSON_DEPTH);
  if (deep !== undefined) {
    throw badRequest(`Invalid value for '${deep}': the JSON nests deeper than ${MAX_JSON_DEPTH} levels, the most the gateway accepts.`, deep, 'json_too_deep');
  }
  return parsed;
}

/** Checks one request body's fields; each problem is a 400 naming the field. */
export class Checker {
  constructor(private readonly body: Json) {}

  typeName(v: unknown): string {
    if (v === null) return 'null';
    if (Array.isArray(v)) return 'array';
    // JSON has no NaN or Infinity, but 1e999 parses to Infinity: "expected a number, but got
    // number" would contradict itself, so say what is wrong with it.
    if (typeof v === 'number' && !Number.isFinite(v)) return 'a number too large to represent';
    return typeof v;
  }

  fail(param: string, expected: string, got: unknown): never {
    throw badRequest(`Invalid type for '${param}': expected ${expected}, but got ${this.typeName(got)}.`, param, 'invalid_type');
  }

  optionalNumber(key: string, min: number, max: number, integer = false): void {
    const v = this.body[key];
    if (v === undefined || v === null) return;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, integer ? 'an integer' : 'a number', v);
    // A fraction is a number, so name it rather than its type ("expected an integer, but got 1.5").
    if (integer && !Number.isInteger(v)) {
      throw badRequest(`Invalid type for '${key}': expected an integer, but got ${v}.`, key, 'invalid_type');
    }
    if (v < min || v > max) {
      throw badRequest(`Invalid value for '${key}': ${v} is outside the range ${min} to ${max}.`, key, 'invalid_value');
    }
  }

  optionalBoolean(key: string): void {
    const v = this.body[key];
    if (v !== undefined && v !== null && typeof v !== 'boolean') this.fail(key, 'a boolean', v);
  }
}

/** Checks an embeddings request: model, and input as a string, strings, tokens or token arrays. */
export function validateEmbeddingsRequest(body: Json): EmbeddingsRequest {
  const c: Checker = new Checker(body);
  if (body.model === undefined) throw badRequest("Missing required parameter: 'model'.", 'model', 'missing_required_parameter');
  if (typeof body.model !== 'string' || body.model.trim() === '') c.fail('model', 'a non-empty string', body.model);
  const input = body.input;
  if (input === undefined) throw badRequest("Missing required parameter: 'input'.", 'input', 'missing_required_parameter');
  const isTokens = (v: unknown): boolean => Array.isArray(v) && v.length > 0 && v.every((t) => Number.isInteger(t));
  const valid =
    (typeof input === 'string' && input !== '') ||
    (Array.isArray(input) && input.length > 0 && (input.every((s) => typeof s === 'string' && s !== '') || isTokens(input) || input.every(isTokens)));
  if (!valid) {
    throw badRequest("Invalid value for 'input': expected a non-empty string, an array of non-empty strings, or token arrays.", 'input', 'invalid_value');
  }
  if (body.encoding_format !== undefined && body.encoding_format !== 'float' && body.encoding_format !== 'base64') {
    throw badRequest("Invalid value for 'encoding_format': expected 'float' or 'base64'.", 'encoding_format', 'invalid_value');
  }
  c.optionalNumber('dimensions', 1, 65536, true);
  return body as unknown as EmbeddingsRequest;
}
