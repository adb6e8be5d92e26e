/**
 * The pool's side table for buffers and transferred values, driven directly with two
 * tables joined by a real MessageChannel (one thread plays both ends). The receiver may
 * drain its port at any moment, also the moment a message is queued: a message must be
 * live (its record holds its id) from then on.
 */
import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { R_PAYLOAD_SAB } from '../../../src/scheduler/pool/layout.js';
import { SharedBufferTable } from '../../../src/scheduler/pool/shared-buffers.js';

const channels: MessageChannel[] = [];
afterEach(() => {
  for (const c of channels.splice(0)) {
    c.port1.close();
    c.port2.close();
  }
});

/** A main-thread table and a worker table sharing one pool memory; `rec` is a record's word offset. */
function pair(): { main: SharedBufferTable; worker: SharedBufferTable; pool: Int32Array; rec: number; channel: MessageChannel } {
  const pool = new Int32Array(new SharedArrayBuffer(4096));
  const channel = new MessageChannel();
  channels.push(channel);
  const main = new SharedBufferTable(pool, [channel.port1], { main: true });
  const worker = new SharedBufferTable(pool, [channel.port2]);
  return { main, worker, pool, rec: 256, channel };
}

describe('SharedBufferTable message payloads', () => {
  it('a receiver that drains the instant the message is queued keeps it (the record already holds its id)', () => {
    const { main, worker, pool, rec, channel } = pair();
    // The worker drains from inside postMessage: right after the message is queued, before
    // sendMessage returns (what a worker thread can do at that moment).
    const post = channel.port1.postMessage.bind(channel.port1);
    channel.port1.postMessage = (message: unknown, transfer?: Parameters<typeof post>[1]) => {
      post(message, transfer);
      worker.drain();
    };
    const buffer = new ArrayBuffer(16);
    const id = main.sendMessage(0, rec, ['args', buffer], [buffer], 7);
    expect(Atomics.load(pool, rec + R_PAYLOAD_SAB)).toBe(id);
    expect(worker.takePinned()).toBe(7);
    const value = worker.takeMessage(id) as [string, ArrayBuffer];
    expect(value[0]).toBe('args');
    expect(value[1].byteLength).toBe(16);
    expect(buffer.byteLength).toBe(0); // moved, not copied
  });

  it('a message whose record moved on is dropped at the next drain', () => {
    const { main, worker, pool, rec } = pair();
    const id = main.sendMessage(0, rec, 'stale', []);
    Atomics.store(pool, rec + R_PAYLOAD_SAB, 0); // discarded unread
    worker.drain();
    expect(() => worker.takeMessage(id)).toThrow(/unknown on this thread/);
  });

  it('a value postMessage cannot send leaves the record as it was', () => {
    const { main, pool, rec } = pair();
    Atomics.store(pool, rec + R_PAYLOAD_SAB, 41);
    expect(() => main.sendMessage(0, rec, () => 1, [])).toThrow();
    expect(Atomics.load(pool, rec + R_PAYLOAD_SAB)).toBe(41);
  });
});
