// Retry delays as properties: exponential backoff with jitter stays in its band, never
// passes maxDelayMs, grows with the attempt; Retry-After wins (capped).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRetryAfter, retryDelay } from '../../../src/io/http/client/request.js';

describe('retry delays', () => {
  it('backoff is within [base/2, base] for base = min(max, min * 2^attempt)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 1_000_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, min, max, random) => {
        const delay = retryDelay(attempt, { minDelayMs: min, maxDelayMs: max }, undefined, random);
        const base = Math.min(max, min * 2 ** attempt);
        expect(delay).toBeGreaterThanOrEqual(base / 2);
        expect(delay).toBeLessThanOrEqual(base);
        expect(delay).toBeLessThanOrEqual(max);
      }),
    );
  });

  it('with the same jitter, a later attempt never waits less', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 100_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, min, max, random) => {
        const options = { minDelayMs: min, maxDelayMs: max };
        expect(retryDelay(attempt + 1, options, undefined, random)).toBeGreaterThanOrEqual(retryDelay(attempt, options, undefined, random));
      }),
    );
  });

  it('Retry-After in seconds is honoured up to maxDelayMs; a date counts from now; garbage falls back to backoff', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 1, max: 10_000_000 }), (seconds, max) => {
        expect(retryDelay(3, { maxDelayMs: max }, String(seconds), 0.5)).toBe(Math.min(seconds * 1000, max));
      }),
    );
    expect(parseRetryAfter(new Date(Date.now() - 10_000).toUTCString())).toBe(0);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(retryDelay(0, { minDelayMs: 100 }, 'soon', 0)).toBe(50);
  });
});
