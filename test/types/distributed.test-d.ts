import { expectTypeOf, test } from 'vitest';
import { Runtime, defineTasks } from '../../src/index.js';
import type { RemoteTasks } from '../../src/distributed/remote-client.js';

const tasks = defineTasks(import.meta.url, {
  fib(n: number): number {
    return n;
  },
  bill(invoice: number, note: string): Promise<{ total: bigint }> {
    return Promise.resolve({ total: BigInt(invoice) + BigInt(note.length) });
  },
}, { id: 'billing' });

const connection = { host: '127.0.0.1', port: 6379 };

test('rt.remote exists only when .distributed(...) is configured', () => {
  const plain = Runtime.builder().workers(2).build();
  // @ts-expect-error remote is absent without .distributed(...)
  void plain.remote;
  const current = Runtime.builder().build();
  // @ts-expect-error remote is absent without .distributed(...)
  void current.remote;

  const rt = Runtime.builder().workers(4).distributed({ engine: 'bullmq', connection, queue: 'zokio' }).build();
  expectTypeOf(rt.remote).toEqualTypeOf<RemoteTasks>();
  expectTypeOf(rt.exec).toBeFunction(); // workers still give exec
  const remoteOnly = Runtime.builder().distributed({ engine: 'bullmq', connection, queue: 'zokio' }).build();
  expectTypeOf(remoteOnly.remote).toEqualTypeOf<RemoteTasks>();
  // @ts-expect-error no workers: no local exec
  void remoteOnly.exec;
});

test('remote calls are typed by the task reference', () => {
  const rt = Runtime.builder().distributed({ engine: 'bullmq', connection, queue: 'zokio', defaults: { attempts: 3 } }).build();
  expectTypeOf(rt.remote.exec(tasks.fib, 30)).toEqualTypeOf<Promise<number>>();
  expectTypeOf(rt.remote.exec({ key: 'invoice-42', timeoutMs: 60_000 }, tasks.bill, 42, 'x')).toEqualTypeOf<Promise<{ total: bigint }>>();
  expectTypeOf(rt.remote.map(tasks.fib, [20, 21, 22], { onProgress: (done: number, total: number) => void [done, total] })).toEqualTypeOf<Promise<number[]>>();
  // @ts-expect-error wrong argument type
  void rt.remote.exec(tasks.fib, 'thirty');
  // @ts-expect-error a closure cannot cross to another machine
  void rt.remote.exec(tasks.bill, 1, () => 'x');
});

test('the engine must be bullmq', () => {
  // @ts-expect-error only 'bullmq'
  Runtime.builder().distributed({ engine: 'kafka', connection, queue: 'zokio' });
  // @ts-expect-error queue is required
  Runtime.builder().distributed({ engine: 'bullmq', connection });
});

test('defineTasks takes a stable id', () => {
  expectTypeOf(tasks.fib.id).toEqualTypeOf<string | undefined>();
  // @ts-expect-error id must be a string
  defineTasks(import.meta.url, { f: (n: number) => n }, { id: 42 });
});
