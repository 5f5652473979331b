// JSON text written once per object instead of once per answer. Objects that answer
// many requests unchanged (a workflow version, kept by WorkflowService) carry their own
// JSON text; jsonText() writes a body as JSON.stringify would, copying that text in where
// such an object appears, so a list page does not serialise the same workflows again
// on every request (what it saves: docs/performance.md).
//
// An object gets its text only together with a deep freeze, so the text can never drift
// from the object: the text is a symbol-keyed, non-enumerable property, which
// JSON.stringify, Object.keys, the contract validator and the tests' deep equality ignore.

const TEXT = Symbol('json text');

/** How deep jsonText looks for objects with their own text; below, JSON.stringify does it all. */
const SEARCH_DEPTH = 2;

/** Freezes `value` deeply and attaches its JSON text. */
export function withJsonText<T extends object>(value: T): T {
  const text = JSON.stringify(value);
  Object.defineProperty(value, TEXT, { value: text });
  return deepFreeze(value);
}

/** JSON.stringify(body) (a body that is not undefined), reusing the text of objects that carry it. */
export function jsonText(body: unknown): string {
  return write(body, 0) as string;
}

function write(value: unknown, depth: number): string | undefined {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  const own = (value as { [TEXT]?: string })[TEXT];
  if (own !== undefined) return own;
  // Below the search depth, and for anything with its own JSON rules (a Date, a class
  // with toJSON, a boxed primitive), JSON.stringify writes the value whole.
  if (depth >= SEARCH_DEPTH || typeof (value as { toJSON?: unknown }).toJSON === 'function')
    return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      // What JSON.stringify writes for undefined, functions and symbols in an array.
      out += write(value[i], depth + 1) ?? 'null';
    }
    return `${out}]`;
  }
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return JSON.stringify(value);
  let out = '{';
  let first = true;
  for (const key of Object.keys(value)) {
    const text = write((value as Record<string, unknown>)[key], depth + 1);
    // Properties whose value JSON.stringify leaves out (undefined, functions, symbols).
    if (text === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${text}`;
    first = false;
  }
  return `${out}}`;
}

/** Freezes every object reachable from `value` (the text above stays true only if nothing changes). */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
