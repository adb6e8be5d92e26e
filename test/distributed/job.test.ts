import { describe, expect, it } from 'vitest';
import { callJobId, jobIdForKey } from '../../src/distributed/job.js';

describe('job ids', () => {
  it('a call without key gets a short id, distinct from every other and from every key id', () => {
    const ids = Array.from({ length: 10_000 }, () => callJobId());
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(id).toMatch(/^c[A-Za-z0-9_-]{12}[0-9a-z]+$/); // base64url prefix, base-36 counter
      expect(id.length).toBeLessThan(36); // a UUID's length
      expect(id.startsWith('key')).toBe(false);
    }
    // The random part is the same within this process; only the counter moves.
    expect(ids[0]!.slice(0, 13)).toBe(ids[9_999]!.slice(0, 13));
  });

  it('a key gives the same id every time, never an integer and never with a colon', () => {
    expect(jobIdForKey('report-42')).toBe('key-report-42');
    expect(jobIdForKey('report-42')).toBe(jobIdForKey('report-42'));
    expect(jobIdForKey('42')).toMatch(/^key#[A-Za-z0-9_-]{43}$/);
    expect(jobIdForKey('a:b')).not.toContain(':');
  });
});
