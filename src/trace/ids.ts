/**
 * Trace and span ids: 16 and 8 random bytes as lowercase hex (W3C Trace Context).
 *
 * Implementation note. One `crypto.randomFillSync` call fills a 4 KiB pool that serves 256
 * trace ids or 512 span ids; bytes become hex through a 256-entry table, so an id costs a
 * few string concatenations instead of a native call. An all-zero id is invalid in W3C
 * Trace Context and is drawn again (probability 2^-64 for a span id).
 *
 * ```
 * pool: [ b0 b1 b2 ... b4095 ]   offset ──► next unused byte; refill when < 16 left
 * ```
 */
import { randomFillSync } from 'node:crypto';

function hexTable(): string[] {
  const table: string[] = [];
  for (let i = 0; i < 256; i++) table.push(i.toString(16).padStart(2, '0'));
  return table;
}
const HEX = /* @__PURE__ */ hexTable();

const POOL_SIZE = 4096;
const pool = /* @__PURE__ */ new Uint8Array(POOL_SIZE);
let offset = POOL_SIZE;

function hexOf(bytes: number): string {
  if (offset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  let out = '';
  let nonZero = 0;
  const end = offset + bytes;
  // Plain loop over the typed array: this runs once per span.
  for (let i = offset; i < end; i++) {
    const b = pool[i]!;
    nonZero |= b;
    out += HEX[b]!;
  }
  offset = end;
  return nonZero === 0 ? hexOf(bytes) : out;
}

/** A new random trace id: 32 lowercase hex digits, never all zero. */
export function randomTraceId(): string {
  return hexOf(16);
}

/** A new random span id: 16 lowercase hex digits, never all zero. */
export function randomSpanId(): string {
  return hexOf(8);
}

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/** True when `id` is 32 lowercase hex digits and not all zero. */
export function isValidTraceId(id: string): boolean {
  return TRACE_ID.test(id) && id !== ZERO_TRACE_ID;
}

/** True when `id` is 16 lowercase hex digits and not all zero. */
export function isValidSpanId(id: string): boolean {
  return SPAN_ID.test(id) && id !== ZERO_SPAN_ID;
}
