import { describe, expect, it } from 'vitest';
import { checkExamples, extractExamples } from '../../scripts/doc-examples.js';

describe('doc comment examples', () => {
  it('finds examples in the sources', () => {
    expect(extractExamples().length).toBeGreaterThan(20);
  });

  it('every example compiles', () => {
    expect(checkExamples(extractExamples())).toEqual([]);
  }, 120_000);
});
