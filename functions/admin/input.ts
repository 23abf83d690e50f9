// Small validation helpers shared by the tenant and user input parsers: every failure is a 400
// in OpenAI's shape with `param` naming the offending field.
import { badRequest } from '../core/errors';

export type JsonObject = Record<string, unknown>;

export function requireObject(body: unknown): JsonObject {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('The request body must be a JSON object.', null, 'invalid_body');
  }
  return body as JsonObject;
}

/** Optional body (e.g. rotate-key): absent means `{}`. */
export function optionalObject(body: unknown): JsonObject {
  return body === undefined ? {} : requireObject(body);
}

export function rejectUnknown(obj: JsonObject, allowed: readonly string[]): void {
  for (const field of Object.keys(obj)) {
    if (!allowed.includes(field)) {
      throw badRequest(`Unknown field "${field}". Allowed fields: ${allowed.join(', ')}.`, field, 'unknown_field');
    }
  }
}

export const invalid = (field: string, expectation: string) =>
  badRequest(`Invalid value for "${field}": ${expectation}.`, field, 'invalid_value');

export function nonNegativeInt(obj: JsonObject, field: string, max = Number.MAX_SAFE_INTEGER): number {
  const v = obj[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) {
    throw invalid(field, `expected an integer between 0 and ${max}`);
  }
  return v;
}

export function bool(obj: JsonObject, field: string): boolean {
  const v = obj[field];
  if (typeof v !== 'boolean') throw invalid(field, 'expected true or false');
  return v;
}
