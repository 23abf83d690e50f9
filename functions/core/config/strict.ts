// Schema pieces for JSON documents whose every field is known: an unknown field anywhere is
// refused by its path, e.g. "routes.fast.targets[0].weight is not a known field".
import * as v from 'valibot';

export const isJsonObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** An object with exactly these fields (the optional ones may be absent); arrays are not objects here. */
export function section<const TEntries extends v.ObjectEntries>(entries: TEntries, notAnObject = 'must be an object') {
  const known = Object.keys(entries).join(', ');
  return v.pipe(
    v.custom<Record<string, unknown>>(isJsonObject, notAnObject),
    // The same schema reports both an unknown field (expected "never") and a missing required one.
    v.strictObject(entries, (issue) => (issue.expected === 'never' ? `is not a known field (known: ${known})` : 'is required')),
  );
}

/** An object used as a map (route aliases, model names): any key `key` accepts, each value `value`. */
export function map<const TKey extends v.GenericSchema<string, string>, const TValue extends v.GenericSchema>(key: TKey, value: TValue) {
  return v.pipe(v.custom<Record<string, unknown>>(isJsonObject, 'must be an object'), v.record(key, value));
}

/** "routes.fast.targets[0].weight": object keys joined by dots, array indexes in brackets. */
export function issuePath(issue: v.BaseIssue<unknown>): string {
  let path = '';
  for (const item of issue.path ?? []) {
    const key: unknown = item.key;
    path += typeof key === 'number' ? `[${key}]` : `${path === '' ? '' : '.'}${String(key)}`;
  }
  return path;
}
