/**
 * The pool's fast payload format: JSON text, for the values JSON carries exactly as the
 * structured clone does.
 *
 * Implementation note. `v8.Serializer` costs about 3.5 µs per call on this platform even
 * for a handful of strings (a native serializer object per call, its buffer handed back
 * as external memory the GC then accounts for), and `v8.deserialize` 1–2 µs; most task
 * arguments and results are a few strings, numbers and plain objects, for which building
 * JSON text and `JSON.parse` cost a tenth of that. {@link exactJson} builds the text in
 * one pass (each property is read once, as the serializer would) and gives up, so that
 * the caller falls back to `v8.Serializer`, on anything whose JSON form would differ from
 * its structured clone: `undefined`, `-0`, `NaN`, `±Infinity`, bigint, a hole or an extra
 * named property in an array, an object whose prototype is not `Object.prototype` (or
 * null), any built-in or class instance, an object reached twice (aliasing and cycles,
 * which the clone keeps), and values past the size budgets below (large text is cheaper
 * through the serializer).
 *
 * The two formats are told apart by the first byte: the serializer's output starts with
 * its version tag 0xFF, which no UTF-8 text contains.
 *
 * @module
 */

import { isProxy } from 'node:util/types';

/** First byte of every `v8.serialize` output (the serializer's version tag). */
export const V8_VERSION_TAG = 0xff;

/** Containers (arrays and objects) one value may hold and still take the JSON path. */
const MAX_CONTAINERS = 32;
/** Elements and fields in all, and nesting depth, past which the serializer is used. */
const MAX_ITEMS = 1024;
const MAX_DEPTH = 16;
/**
 * Characters of strings and keys in all past which the serializer is used: it copies a
 * string's bytes as they are, where JSON scans, escapes and UTF-8-encodes them and then
 * parses them back, so past about 1 KB of text its fixed cost is the smaller one
 * (measured here: a 1,000-character string round-trips in about 5 µs either way; at
 * 8,000 characters JSON takes 2–3× as long).
 */
const MAX_CHARS = 1024;

interface Walk {
  /** Containers seen so far (few: a linear scan finds a repeat). */
  readonly seen: object[];
  items: number;
  chars: number;
}

/**
 * The JSON text of `value` when `JSON.parse` of it gives what `v8.deserialize(v8.serialize(value))`
 * would (same types, same keys in the same order, no shared references); `undefined`
 * otherwise (see the module comment).
 */
export function exactJson(value: unknown): string | undefined {
  return put(value, 0, { seen: [], items: 0, chars: 0 });
}

function put(v: unknown, depth: number, walk: Walk): string | undefined {
  switch (typeof v) {
    case 'string':
      // JSON.stringify escapes lone surrogates, which JSON.parse restores.
      return (walk.chars += v.length) > MAX_CHARS ? undefined : JSON.stringify(v);
    case 'number':
      // Finite, and not -0: JSON writes both zeros as 0 and has no NaN or Infinity.
      return Number.isFinite(v) && !Object.is(v, -0) ? String(v) : undefined;
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object':
      if (v === null) return 'null';
      // A proxy is no clone's business (the serializer refuses it); a repeat is aliasing or a cycle.
      if (depth >= MAX_DEPTH || walk.seen.length >= MAX_CONTAINERS || walk.seen.includes(v) || isProxy(v)) return undefined;
      walk.seen.push(v);
      return Array.isArray(v) ? putArray(v, depth, walk) : putObject(v, depth, walk);
    default:
      return undefined; // undefined, bigint, symbol, function
  }
}

function putArray(a: unknown[], depth: number, walk: Walk): string | undefined {
  const n = a.length;
  if (Object.getPrototypeOf(a) !== Array.prototype || (walk.items += n) > MAX_ITEMS) return undefined;
  // A named property beside the elements is cloned, not written by JSON (a hole reads
  // `undefined` below and gives up there).
  if (Object.keys(a).length !== n) return undefined;
  let out = '[';
  for (let i = 0; i < n; i++) {
    const item = put(a[i], depth + 1, walk);
    if (item === undefined) return undefined;
    out += i === 0 ? item : ',' + item;
  }
  return out + ']';
}

function putObject(o: object, depth: number, walk: Walk): string | undefined {
  const proto = Object.getPrototypeOf(o) as unknown;
  if (proto !== Object.prototype && proto !== null) return undefined;
  const keys = Object.keys(o);
  if ((walk.items += keys.length) > MAX_ITEMS) return undefined;
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if ((walk.chars += k.length) > MAX_CHARS) return undefined;
    const field = put((o as Record<string, unknown>)[k], depth + 1, walk);
    if (field === undefined) return undefined;
    out += (i === 0 ? '' : ',') + JSON.stringify(k) + ':' + field;
  }
  return out + '}';
}
