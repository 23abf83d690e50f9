// Validation of admin request bodies: every failure is a 400 in OpenAI's shape with `param`
// naming the offending field. Bodies are checked against valibot schemas whose messages are the
// expectation shown to the client ("expected true or false").
import * as v from 'valibot';
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

export const invalid = (field: string, expectation: string) => badRequest(`Invalid value for "${field}": ${expectation}.`, field, 'invalid_value');

export function nonNegativeInt(obj: JsonObject, field: string, max = Number.MAX_SAFE_INTEGER): number {
  const v = obj[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) {
    throw invalid(field, `expected an integer between 0 and ${max}`);
  }
  return v;
}

/** A body schema: exactly these fields, each answering with its own expectation. */
export type BodySchema<TEntries extends v.ObjectEntries> = v.StrictObjectSchema<TEntries, undefined>;

/**
 * Parses a body: not an object → invalid_body; an unknown field (reported before any bad value,
 * so a misspelt field is named as such) → unknown_field; a missing required or bad field → invalid_value.
 */
export function parseBody<TEntries extends v.ObjectEntries>(schema: BodySchema<TEntries>, body: unknown): v.InferOutput<BodySchema<TEntries>> {
  const obj = requireObject(body);
  const result = v.safeParse(schema, obj, { abortPipeEarly: true });
  if (result.success) return result.output;
  rejectUnknown(obj, Object.keys(schema.entries));
  const issue = result.issues[0];
  const field = String(issue.path?.[0]?.key);
  // The object schema itself reports a required field that is absent.
  throw invalid(field, issue.type === 'strict_object' ? 'required' : issue.message);
}

/** The schema pieces the admin bodies share. */
export const boolField = v.boolean('expected true or false');

export const nonNegativeIntField = v.message(
  v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  `expected an integer between 0 and ${Number.MAX_SAFE_INTEGER}`,
);
