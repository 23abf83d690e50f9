// Schema pieces for JSON documents whose every field is known: an unknown field anywhere is
// refused by its path, e.g. "routes.fast.targets[0].weight is not a known field".
import * as v from 'valibot';

export const isJsonObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** An object with exactly these fields (the optional ones may be absent); arrays are not objects here. */
export function section<const TEntries extends v.ObjectEntries>(entries: TEntries, notAnObject = 'must be an object') {
  const known = Object.keys(entries).join(', ');
  return v.pipe(
    v.custom<Record<string, unknown>>(isJsonObject, notAnObject),
    // The same schema reports both an unknown field (expected "never") and a missing required one.
    v.strictObject(entries, (issue) => (issue.expected === 'never' ? `is not a known field (known: ${known})` : 'is required')),
  );
}

/** Names valibot's record skips without a word; refused here, so no entry is silently dropped. */
const SKIPPED_KEYS = ['__proto__', 'constructor', 'prototype'];

/** An object used as a map (route aliases, model names): any key `key` accepts, each value `value`. */
export function map<const TKey extends v.GenericSchema<string, string>, const TValue extends v.GenericSchema>(key: TKey, value: TValue) {
  return v.pipe(
    v.custom<Record<string, unknown>>(isJsonObject, 'must be an object'),
    v.rawCheck<Record<string, unknown>>(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const input = dataset.value;
      const reserved = SKIPPED_KEYS.find((name) => Object.hasOwn(input, name));
      if (reserved === undefined) return;
      addIssue({
        message: 'is a reserved name; choose another',
        path: [{ type: 'object', origin: 'key', input, key: reserved, value: input[reserved] }],
      });
    }),
    v.record(key, value),
  );
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
