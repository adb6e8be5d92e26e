import { afterAll, describe, expect, it } from 'vitest';
import { Runtime, TaskArgumentError } from '../../../src/index.js';
import { parity } from '../../fixtures/pool-parity-tasks.js';

const rt = Runtime.builder().workers(2).build();
afterAll(async () => {
  await rt.shutdown();
});

describe('transfers', () => {
  it('moves ArrayBuffers listed in { transfer } to the worker instead of copying them', async () => {
    for (let i = 0; i < 20; i++) {
      const buffer = new ArrayBuffer(1 << 20);
      new Uint8Array(buffer).fill(i % 250);
      const out = await rt.exec({ transfer: [buffer] }, parity.bufferInfo, buffer, i % 250);
      expect(out).toBe(`${1 << 20}:true`);
      expect(buffer.byteLength).toBe(0); // detached here: it moved
    }
  });

  it('moves the buffer of a typed array and keeps the view', async () => {
    const view = new Uint8Array(4096).fill(5);
    expect(await rt.exec({ transfer: [view.buffer] }, parity.viewInfo, view)).toBe('4096:5:false');
    expect(view.byteLength).toBe(0);
  });

  it('copies a large binary argument once and moves the copy: the caller keeps its buffer', async () => {
    const buffer = new ArrayBuffer(1 << 20);
    new Uint8Array(buffer).fill(4);
    expect(await rt.exec(parity.bufferInfo, buffer, 4)).toBe(`${1 << 20}:true`);
    expect(buffer.byteLength).toBe(1 << 20);
    const view = new Uint8Array(buffer, 1024, 512 * 1024);
    expect(await rt.exec(parity.viewInfo, view)).toBe(`${512 * 1024}:4:false`);
    expect(view.length).toBe(512 * 1024);
  });

  it('copies when no transfer list is given', async () => {
    const buffer = new ArrayBuffer(1024);
    expect(await rt.exec(parity.bufferInfo, buffer, 0)).toBe('1024:true');
    expect(buffer.byteLength).toBe(1024);
  });

  it('runs many transferring execs at once, each exactly once', async () => {
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => {
        const buffer = new ArrayBuffer(64 + i);
        return rt.exec({ transfer: [buffer] }, parity.bufferInfo, buffer, 0);
      }),
    );
    expect(results).toEqual(Array.from({ length: 200 }, (_, i) => `${64 + i}:true`));
    expect((rt.metrics().pool as { pending: number }).pending).toBe(0);
  });

  it('rejects arguments postMessage cannot send with TaskArgumentError, nothing queued', async () => {
    const buffer = new ArrayBuffer(8);
    const untyped = rt.exec.bind(rt) as unknown as (o: object, ...args: unknown[]) => Promise<unknown>;
    const err = await untyped({ transfer: [buffer] }, parity.bufferInfo, buffer, () => 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskArgumentError);
  });

  it('a task returns a moved buffer with move(value, transferList)', async () => {
    const out = await rt.exec(parity.makeMoved, 1 << 20, 7);
    expect(out).toBeInstanceOf(Uint8Array);
    expect(out.length).toBe(1 << 20);
    expect(out[0]).toBe(7);
    expect(out[(1 << 20) - 1]).toBe(7);
  });

  it('a cancelled queued transfer releases its record', async () => {
    const controller = new AbortController();
    const buffer = new ArrayBuffer(16);
    const p = rt.exec({ transfer: [buffer], signal: controller.signal }, parity.bufferInfo, buffer, 0).catch((e: unknown) => e);
    controller.abort(new Error('stop'));
    const r = await p;
    // either it had started (then it finished) or it was dropped with the reason
    expect(r === '16:true' || (r as Error).message === 'stop').toBe(true);
    expect(await rt.exec(parity.sum, new Uint8Array(2))).toBe(2000);
  });
});
