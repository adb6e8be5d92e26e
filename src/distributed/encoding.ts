/**
 * Tagged JSON: how task arguments and results cross to another machine.
 *
 * Implementation note. Plain JSON loses most `Cloneable` types, so every value JSON cannot
 * say is written as a tagged object `{ "$z": tag, "v": payload }`:
 *
 * | value | tag | payload |
 * |---|---|---|
 * | `undefined` | `u` | — |
 * | `NaN`, `±Infinity`, `-0` | `n` | `'NaN'`, `'Infinity'`, `'-Infinity'`, `'-0'` |
 * | bigint | `b` | decimal string |
 * | Date | `d` | epoch ms (`null` for an invalid date) |
 * | RegExp | `r` | `[source, flags]` |
 * | Map | `m` | `[[key, value], ...]` |
 * | Set | `s` | `[value, ...]` |
 * | ArrayBuffer | `ab` | base64 |
 * | typed array, DataView | `ta` | `[type, base64]` |
 * | Error | `e` | `{ name, message, stack, code, cause }` |
 * | object with an own `$z` key | `o` | the object, fields encoded |
 *
 * What structured clone could not send either, or would send without its meaning, is
 * refused with `TaskArgumentError` naming the path (`args[1].user.avatar`): functions,
 * symbols, class instances with methods, `SharedArrayBuffer` (shared memory cannot be
 * shared with another machine), cycles, and anything whose encoding is over the size
 * limit. Encoding runs before anything is sent, so a refused call leaves Redis untouched.
 *
 * @module
 */
import { TaskArgumentError } from '../errors.js';
import { setOwnField } from '../runtime/fields.js';

/** A JSON value as produced by {@link encodeValue}. */
export type Encoded = null | boolean | number | string | Encoded[] | { [key: string]: Encoded };

/** Default limit of one encoded argument list or result, in bytes of JSON. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 512 * 1024;

const TYPED_ARRAYS = {
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array, DataView,
} as const;
type TypedArrayName = keyof typeof TYPED_ARRAYS;

function tag(t: string, v?: Encoded): Encoded {
  return v === undefined ? { $z: t } : { $z: t, v };
}

/** True when `value`'s prototype chain (below Object.prototype) defines methods. */
function hasMethods(value: object): boolean {
  for (let proto = Object.getPrototypeOf(value) as object | null; proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key === 'constructor') continue;
      const d = Object.getOwnPropertyDescriptor(proto, key);
      if (d !== undefined && (typeof d.value === 'function' || d.get !== undefined || d.set !== undefined)) return true;
    }
  }
  return false;
}

function refuse(path: string, what: string): never {
  throw new TaskArgumentError(`${path} cannot be sent to another machine: ${what}`);
}

function encodeAt(value: unknown, path: string, ancestors: object[]): Encoded {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (Number.isNaN(value)) return tag('n', 'NaN');
      if (value === Infinity) return tag('n', 'Infinity');
      if (value === -Infinity) return tag('n', '-Infinity');
      if (Object.is(value, -0)) return tag('n', '-0');
      return value;
    case 'bigint':
      return tag('b', value.toString());
    case 'undefined':
      return tag('u');
    case 'function':
      return refuse(path, 'it is a function (only data crosses; register code with defineTasks)');
    case 'symbol':
      return refuse(path, 'it is a symbol');
  }
  if (value === null) return null;
  const obj = value as object;
  if (ancestors.includes(obj)) return refuse(path, 'it is a cycle (the value contains itself)');
  if (typeof SharedArrayBuffer !== 'undefined' && obj instanceof SharedArrayBuffer) return refuse(path, 'it is a SharedArrayBuffer (shared memory cannot be shared with another machine)');
  if (ArrayBuffer.isView(obj)) {
    if (typeof SharedArrayBuffer !== 'undefined' && obj.buffer instanceof SharedArrayBuffer) return refuse(path, 'it is a view of a SharedArrayBuffer (shared memory cannot be shared with another machine)');
    const name = obj.constructor.name as TypedArrayName;
    if (!(name in TYPED_ARRAYS)) return refuse(path, `it is a ${obj.constructor.name}, not a built-in typed array`);
    return tag('ta', [name, Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength).toString('base64')]);
  }
  if (obj instanceof ArrayBuffer) return tag('ab', Buffer.from(obj).toString('base64'));
  if (obj instanceof Date) return tag('d', Number.isNaN(obj.getTime()) ? null : obj.getTime());
  if (obj instanceof RegExp) return tag('r', [obj.source, obj.flags]);
  ancestors.push(obj);
  try {
    if (obj instanceof Error) {
      const code = (obj as { code?: unknown }).code;
      const out: { [key: string]: Encoded } = { name: obj.name, message: obj.message };
      if (obj.stack !== undefined) out.stack = obj.stack;
      if (typeof code === 'string' || typeof code === 'number') out.code = code;
      if (obj.cause !== undefined) out.cause = encodeAt(obj.cause, `${path}.cause`, ancestors);
      return tag('e', out);
    }
    if (Array.isArray(obj)) {
      const out: Encoded[] = new Array<Encoded>(obj.length);
      for (let i = 0; i < obj.length; i++) out[i] = encodeAt(obj[i], `${path}[${i}]`, ancestors);
      return out;
    }
    if (obj instanceof Map) {
      const out: Encoded[] = [];
      let i = 0;
      for (const [k, v] of obj) {
        out.push([encodeAt(k, `${path}.<key ${i}>`, ancestors), encodeAt(v, `${path}.get(${describeKey(k)})`, ancestors)]);
        i++;
      }
      return tag('m', out);
    }
    if (obj instanceof Set) {
      const out: Encoded[] = [];
      let i = 0;
      for (const v of obj) out.push(encodeAt(v, `${path}.<item ${i++}>`, ancestors));
      return tag('s', out);
    }
    if (obj instanceof Boolean || obj instanceof Number || obj instanceof String) return refuse(path, 'it is a boxed primitive');
    if (obj instanceof WeakMap || obj instanceof WeakSet || obj instanceof Promise) return refuse(path, `it is a ${obj.constructor.name}`);
    if (hasMethods(obj)) return refuse(path, `it is an instance of class ${obj.constructor?.name ?? '(anonymous)'} with methods (send its data as a plain object)`);
    const out: { [key: string]: Encoded } = {};
    for (const key of Object.keys(obj)) setOwnField(out, key, encodeAt((obj as Record<string, unknown>)[key], `${path}.${key}`, ancestors));
    return Object.hasOwn(obj, '$z') ? tag('o', out) : out;
  } finally {
    ancestors.pop();
  }
}

function describeKey(k: unknown): string {
  return typeof k === 'string' ? JSON.stringify(k) : typeof k === 'number' || typeof k === 'boolean' ? String(k) : typeof k;
}

/**
 * Encodes `value` as tagged JSON text.
 * @param path what to call the value in errors (`args`, `result`).
 * @throws TaskArgumentError naming the path of the first part that cannot cross, or the
 * size when the text is over `maxBytes`.
 */
export function encodeValue(value: unknown, path: string, maxBytes = DEFAULT_MAX_PAYLOAD_BYTES): Encoded {
  const encoded = encodeAt(value, path, []);
  const size = Buffer.byteLength(JSON.stringify(encoded));
  if (size > maxBytes) throw new TaskArgumentError(`${path} cannot be sent to another machine: its encoding is ${size} bytes, over the limit of ${maxBytes} bytes`);
  return encoded;
}

/** Decodes a value written by {@link encodeValue}. */
export function decodeValue(encoded: unknown): unknown {
  if (encoded === null || typeof encoded !== 'object') return encoded;
  if (Array.isArray(encoded)) return encoded.map(decodeValue);
  const obj = encoded as { [key: string]: unknown };
  const t = obj.$z;
  if (typeof t !== 'string') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(obj)) setOwnField(out, key, decodeValue(obj[key]));
    return out;
  }
  const v = obj.v;
  switch (t) {
    case 'u':
      return undefined;
    case 'n':
      return v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : -0;
    case 'b':
      return BigInt(v as string);
    case 'd':
      return new Date(v === null ? NaN : (v as number));
    case 'r': {
      const [source, flags] = v as [string, string];
      return new RegExp(source, flags);
    }
    case 'm':
      return new Map((v as [unknown, unknown][]).map(([k, x]) => [decodeValue(k), decodeValue(x)]));
    case 's':
      return new Set((v as unknown[]).map(decodeValue));
    case 'ab': {
      const b = Buffer.from(v as string, 'base64');
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
    }
    case 'ta': {
      const [name, data] = v as [TypedArrayName, string];
      const b = Buffer.from(data, 'base64');
      const buffer = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
      const Ctor = TYPED_ARRAYS[name];
      if (Ctor === DataView) return new DataView(buffer);
      const bytesPer = (Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
      return new (Ctor as unknown as new (b: ArrayBuffer, o: number, l: number) => unknown)(buffer, 0, buffer.byteLength / bytesPer);
    }
    case 'e': {
      const e = v as { name: string; message: string; stack?: string; code?: string | number; cause?: unknown };
      const err = new Error(e.message, e.cause !== undefined ? { cause: decodeValue(e.cause) } : undefined);
      Object.defineProperty(err, 'name', { value: e.name, enumerable: false, configurable: true, writable: true });
      if (e.stack !== undefined) err.stack = e.stack;
      if (e.code !== undefined) (err as { code?: unknown }).code = e.code;
      return err;
    }
    case 'o': {
      // The object had a `$z` field of its own: decode its fields, not the object as a tag.
      const fields = v as { [key: string]: unknown };
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(fields)) setOwnField(out, key, decodeValue(fields[key]));
      return out;
    }
    default:
      throw new TaskArgumentError(`cannot decode a value tagged '${t}' (written by a newer Zokio?)`);
  }
}
