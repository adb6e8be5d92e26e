import { describe, expect, it } from 'vitest';
import { holdLoop, pendingWaits, releaseLoop, waitAsync } from '../../src/scheduler/wait-async.js';

describe('waitAsync', () => {
  it('answers at once when the word already differs, else waits for a notify or the timeout', async () => {
    const word = new Int32Array(new SharedArrayBuffer(4));
    expect(waitAsync(word, 0, 1)).toEqual({ async: false, value: 'not-equal' });
    const woken = waitAsync(word, 0, 0);
    expect(woken.async).toBe(true);
    Atomics.notify(word, 0);
    expect(await woken.value).toBe('ok');
    const timed = waitAsync(word, 0, 0, 1);
    expect(await timed.value).toBe('timed-out');
  });
});

describe('holdLoop / releaseLoop', () => {
  it('counts holds of this thread; the loop is held while the count is above zero', () => {
    const before = pendingWaits();
    holdLoop();
    holdLoop();
    expect(pendingWaits()).toBe(before + 2);
    releaseLoop();
    expect(pendingWaits()).toBe(before + 1);
    releaseLoop();
    expect(pendingWaits()).toBe(before);
  });
});
