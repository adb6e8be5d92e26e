import { describe, expect, it } from 'vitest';
import { main } from '../../examples/broadcast-backpressure.js';

describe('examples/broadcast-backpressure', () => {
  it('every subscriber gets every event, nobody lags, one warning', async () => {
    const warnings: string[] = [];
    const count = 500;
    const result = await main(count, (m) => warnings.push(m));
    for (const s of result.subscribers) {
      expect(s.received).toBe(count);
      expect(s.lagged).toBe(0);
      expect(s.sum).toBe((count * (count + 1)) / 2);
    }
    expect(result.waits).toBeGreaterThan(0);
    expect(warnings).toHaveLength(1);
  });
});
