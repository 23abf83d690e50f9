// A bound on how deeply a request body nests. JSON.parse copes with any depth, but everything
// after it that recurses (JSON.stringify for the cache key and the upstream body, translations)
// overflows the stack at a few thousand levels: a 500 any tenant could trigger at will. So the
// depth is checked right after parsing, by a walk with its own stack, which cannot overflow.

/** Deepest nesting accepted, counting the body object as level 1. Real requests stay far below. */
export const MAX_JSON_DEPTH = 64;

/** Path segments named in a refusal: enough to locate the field, short enough to read. */
const PARAM_SEGMENTS = 6;
/** A key in the path is cut to this many characters (keys are client text of any length). */
const KEY_CHARS = 40;

interface Frame {
  value: object;
  depth: number;
  parent: Frame | undefined;
  key: string | number;
}

/**
 * Returns the path of the first value nested deeper than `max` levels (as OpenAI names a param:
 * `messages[0].content[1]`, cut to its first few segments), or undefined when none is.
 */
export function tooDeepPath(root: object, max: number = MAX_JSON_DEPTH): string | undefined {
  const stack: Frame[] = [{ value: root, depth: 1, parent: undefined, key: '' }];
  for (let frame = stack.pop(); frame; frame = stack.pop()) {
    const { value, depth } = frame;
    const entries: Array<[string | number, unknown]> = Array.isArray(value) ? value.map((v, i): [number, unknown] => [i, v]) : Object.entries(value);
    const children: Frame[] = [];
    for (const [key, child] of entries) {
      if (typeof child === 'object' && child !== null) children.push({ value: child, depth: depth + 1, parent: frame, key });
    }
    if (depth + 1 > max && children[0]) return pathOf(children[0]);
    // Pushed in reverse so the first field is visited first: the path named is the first in the body.
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  return undefined;
}

function pathOf(frame: Frame): string {
  const keys: Array<string | number> = [];
  for (let f: Frame | undefined = frame; f?.parent; f = f.parent) keys.push(f.key);
  keys.reverse();
  let path = '';
  for (const key of keys.slice(0, PARAM_SEGMENTS)) {
    if (typeof key === 'number') path += `[${key}]`;
    else path += (path === '' ? '' : '.') + key.slice(0, KEY_CHARS);
  }
  return path;
}
