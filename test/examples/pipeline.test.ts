import { describe, expect, it } from 'vitest';
import { main } from '../../examples/pipeline.js';

describe('examples/pipeline', () => {
  it('runs to completion with the right checksum and bounded buffers', async () => {
    const count = 1000;
    const result = await main(count);
    expect(result.records).toBe(count);
    let expected = 0;
    for (let i = 1; i <= count; i++) expected += (i % 10) * 2;
    expect(result.total).toBe(expected);
    expect(result.maxBuffered).toBeLessThanOrEqual(8);
  });
});
