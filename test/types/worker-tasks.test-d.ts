import { expectTypeOf, test } from 'vitest';
import { Runtime, defineTasks, exec, join, type TaskRef } from '../../src/index.js';

const tasks = defineTasks(import.meta.url, {
  add(a: number, b: number): number {
    return a + b;
  },
  async digest(data: Uint8Array): Promise<string> {
    return String(data.length);
  },
});

test('refs carry the signature; exec and map are typed by it', () => {
  expectTypeOf(tasks.add).toEqualTypeOf<TaskRef<[a: number, b: number], number>>();
  const rt = Runtime.builder().workers(2).build();
  expectTypeOf(rt.exec(tasks.add, 1, 2)).toEqualTypeOf<Promise<number>>();
  expectTypeOf(rt.exec(tasks.digest, new Uint8Array(1))).toEqualTypeOf<Promise<string>>();
  expectTypeOf(rt.map(tasks.digest, [new Uint8Array(1)])).toEqualTypeOf<Promise<string[]>>();
  expectTypeOf(join([tasks.add, 1, 2], [tasks.add, 3, 4])).toEqualTypeOf<[number, number]>();
  // @ts-expect-error a string is not a number
  void rt.exec(tasks.add, 1, 'two');
  // @ts-expect-error a closure cannot be sent to a worker
  void rt.exec(tasks.add, 1, () => 2);
});

test('exec rejects arguments that cannot cross to a worker even where the parameter type would accept them', () => {
  const shapes = defineTasks(import.meta.url, {
    area(box: { w: number; h: number }): number {
      return box.w * box.h;
    },
  });
  class Box {
    w = 2;
    h = 3;
    grow(): void {
      this.w++;
    }
  }
  const rt = Runtime.builder().workers(1).build();
  expectTypeOf(rt.exec(shapes.area, { w: 2, h: 3 })).toEqualTypeOf<Promise<number>>();
  // @ts-expect-error argument 1 cannot be sent to a worker: a class instance with methods
  void rt.exec(shapes.area, new Box());
  // @ts-expect-error an object holding a function
  void rt.exec(shapes.area, { w: 1, h: 1, f: () => 0 });
  const controller = new AbortController();
  expectTypeOf(rt.exec({ signal: controller.signal }, shapes.area, { w: 1, h: 1 })).toEqualTypeOf<Promise<number>>();
  // @ts-expect-error options first, then a task reference
  void rt.exec({ signal: controller.signal }, { w: 1, h: 1 });
});

test('a task whose argument or result is not cloneable does not compile, naming it', () => {
  defineTasks(import.meta.url, {
    // @ts-expect-error task 'withCallback': argument 2 is not structured-cloneable
    withCallback(x: number, cb: () => void): number {
      cb();
      return x;
    },
  });
  class Counter {
    n = 0;
    inc(): void {
      this.n++;
    }
  }
  defineTasks(import.meta.url, {
    // @ts-expect-error task 'withInstance': argument 1 is not structured-cloneable
    withInstance(c: Counter): number {
      return c.n;
    },
    // @ts-expect-error task 'returnsFunction': its result is not structured-cloneable
    returnsFunction(): () => number {
      return () => 1;
    },
  });
});

test('exec and map do not exist on a current-thread runtime', () => {
  const rt = Runtime.builder().build();
  // @ts-expect-error exec needs .workers(...)
  void rt.exec;
});

test('the free exec: typed by the ref, with or without { signal } first', () => {
  expectTypeOf(exec(tasks.add, 1, 2)).toEqualTypeOf<Promise<number>>();
  expectTypeOf(exec({ signal: new AbortController().signal }, tasks.add, 1, 2)).toEqualTypeOf<Promise<number>>();
  // @ts-expect-error a string is not a number
  void exec({ signal: new AbortController().signal }, tasks.add, 1, 'two');
  // @ts-expect-error the options come first
  void exec(tasks.add, { signal: new AbortController().signal }, 1, 2);
});
