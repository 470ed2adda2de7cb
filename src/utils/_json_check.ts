/**
 * A precise check that a value survives `JSON.stringify` without silent loss.
 *
 * `JSON.stringify` quietly drops functions and symbols, turns `NaN` into
 * `null`, serialises a `Map` as `{}` and throws late on cycles and bigints.
 * This walk reports the first such value with its path instead.
 *
 * @module
 */

const LOSSY = [Map, Set, WeakMap, WeakSet, Promise, RegExp, Error] as const;

/**
 * Describe why `value` is not JSON-serialisable, or return `undefined` when it is.
 * `path` is the field name used in the description (e.g. `payload`).
 */
export function jsonProblem(value: unknown, path: string): string | undefined {
  if (value === undefined) return `${path} is undefined (JSON has no undefined)`;
  if (plainJson(value, 0)) return undefined;
  return walk(value, path, new Set<object>());
}

/**
 * Fast path: true when `value` is made only of primitives JSON holds exactly,
 * plain objects and plain arrays (no toJSON, at most 32 levels deep, so no
 * cycle). Builds no paths; anything else goes through the precise walk.
 */
function plainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value);
    case "object":
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth > 32) return false;
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) return false;
    for (let i = 0; i < value.length; i++) {
      if (!plainJson(value[i], depth + 1)) return false;
    }
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  const obj = value as Record<string, unknown>;
  if ("toJSON" in obj) return false;
  for (const key in obj) {
    const item = obj[key];
    if (item !== undefined && !plainJson(item, depth + 1)) return false;
  }
  return true;
}

function walk(value: unknown, path: string, stack: Set<object>): string | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(value)
        ? undefined
        : `${path} is ${value} (JSON cannot hold NaN or Infinity)`;
    case "bigint":
      return `${path} is a bigint (convert it to a string or number first)`;
    case "function":
      return `${path} is a function`;
    case "symbol":
      return `${path} is a symbol`;
    case "undefined":
      return `${path} is undefined`;
  }
  if (value === null) return undefined;
  const obj = value as Record<string, unknown>;
  if (stack.has(obj)) return `${path} refers back to itself (a cycle)`;
  if (obj instanceof Date && Number.isNaN(obj.getTime())) {
    return `${path} is an Invalid Date (JSON.stringify would write null)`;
  }
  const toJSON = (obj as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function") {
    const replaced: unknown = toJSON.call(obj, "");
    if (replaced === obj) return `${path}.toJSON() returned the object itself`;
    stack.add(obj);
    try {
      if (replaced === undefined) return `${path}.toJSON() returned undefined`;
      return walk(replaced, path, stack);
    } finally {
      stack.delete(obj);
    }
  }
  for (const Ctor of LOSSY) {
    if (obj instanceof Ctor) {
      return `${path} is a ${Ctor.name}, which JSON.stringify turns into {} (convert it first)`;
    }
  }
  if (ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer) {
    return `${path} is binary data (encode it as a string first)`;
  }
  stack.add(obj);
  try {
    if (Array.isArray(obj)) {
      for (let i = 0; i < obj.length; i++) {
        const item: unknown = obj[i];
        if (item === undefined) return `${path}[${i}] is undefined (JSON has no undefined)`;
        const problem = walk(item, `${path}[${i}]`, stack);
        if (problem) return problem;
      }
      return undefined;
    }
    for (const key of Object.keys(obj)) {
      const item = obj[key];
      // Undefined properties are left out by JSON.stringify, like optional fields.
      if (item === undefined) continue;
      const problem = walk(item, `${path}.${key}`, stack);
      if (problem) return problem;
    }
    return undefined;
  } finally {
    stack.delete(obj);
  }
}
