import { describe, expectTypeOf, it } from 'vitest';
import { Runtime, createRuntime, move, type ExecOptions } from '../../src/index.js';

describe('maxQueue literal rule', () => {
  it('accepts integers >= 1 and wide numbers', () => {
    Runtime.builder().workers(2).maxQueue(1).maxQueue(64).maxQueue(100_000);
    Runtime.builder().workers(2).maxQueue(8, { onFull: 'reject' });
    const n: number = Number(process.env.N ?? 4);
    Runtime.builder().workers(2).maxQueue(n);
    createRuntime({ workers: 2, maxQueue: 16 });
  });

  it('rejects 0, negatives and fractions at compile time', () => {
    // @ts-expect-error maxQueue must be an integer >= 1
    Runtime.builder().maxQueue(0);
    // @ts-expect-error maxQueue must be an integer >= 1
    Runtime.builder().maxQueue(-3);
    // @ts-expect-error maxQueue must be an integer >= 1
    Runtime.builder().maxQueue(2.5);
    // @ts-expect-error maxQueue must be an integer >= 1
    createRuntime({ workers: 2, maxQueue: 0 });
    // @ts-expect-error onFull is 'wait' or 'reject'
    Runtime.builder().maxQueue(4, { onFull: 'drop' });
  });
});

describe('exec options', () => {
  it('take transfer, force and onFull', () => {
    expectTypeOf<{ transfer: ArrayBuffer[]; force: true; onFull: 'reject' }>().toMatchTypeOf<ExecOptions>();
    // @ts-expect-error onFull is 'wait' or 'reject'
    const bad: ExecOptions = { onFull: 'later' };
    void bad;
  });

  it('move keeps the result type', () => {
    expectTypeOf(move(new Uint8Array(1), [])).toEqualTypeOf<Uint8Array<ArrayBuffer>>();
  });
});
