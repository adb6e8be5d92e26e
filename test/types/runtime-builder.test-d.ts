import { expectTypeOf, test } from 'vitest';
import { Runtime, createRuntime, type RuntimeReport } from '../../src/index.js';

test('valid literals compile', () => {
  Runtime.builder().workers(1).workers(2).workers(1024).workers('auto');
  Runtime.builder().queueCapacity(16).queueCapacity(256).queueCapacity(65536);
  Runtime.builder().strategy('local_first').strategy('global_first').strategy('round_robin');
  Runtime.builder().workStealing(true).workStealing(false);
  Runtime.builder().blockingThreads(1).blockingThreads(8);
  Runtime.builder().timer({ resolutionMs: 1 }).timer({ resolutionMs: 10 });
  Runtime.builder().io('auto').io('node').io('memory');
  Runtime.builder().memory({ strategy: 'pooled' }).memory({ strategy: 'heap' });
  Runtime.builder().tracing({ exporter: 'chrome', path: 'trace.json', sampleRatio: 1 }).tracing({ exporter: 'otlp', sampleRatio: 0.25 });
  createRuntime({ workers: 2, queueCapacity: 256, strategy: 'round_robin', io: 'memory', timer: { resolutionMs: 5 } });
  Runtime.builder().workers(2).resourceLimits({ maxOldGenerationSizeMb: 64 }).resourceLimits({ maxYoungGenerationSizeMb: 8, stackSizeMb: 0.5 });
  createRuntime({ workers: 2, resourceLimits: { maxOldGenerationSizeMb: 128, stackSizeMb: 4 } });
});

test('invalid literals are compile errors', () => {
  // @ts-expect-error workers must be an integer from 1 to 1024 or 'auto'
  Runtime.builder().workers(0);
  // @ts-expect-error workers must be an integer from 1 to 1024 or 'auto'
  Runtime.builder().workers(2000);
  // @ts-expect-error workers must be an integer from 1 to 1024 or 'auto'
  Runtime.builder().workers(1.5);
  // @ts-expect-error workers must be an integer from 1 to 1024 or 'auto'
  Runtime.builder().workers(-1);
  // @ts-expect-error workers must be an integer from 1 to 1024 or 'auto'
  Runtime.builder().workers('many');
  // @ts-expect-error queueCapacity must be a power of two from 16 to 65536
  Runtime.builder().queueCapacity(1000);
  // @ts-expect-error queueCapacity must be a power of two from 16 to 65536
  Runtime.builder().queueCapacity(8);
  // @ts-expect-error queueCapacity must be a power of two from 16 to 65536
  Runtime.builder().queueCapacity(131072);
  // @ts-expect-error strategy must be 'local_first', 'global_first' or 'round_robin'
  Runtime.builder().strategy('fastest');
  // @ts-expect-error blockingThreads must be an integer from 1 to 1024
  Runtime.builder().blockingThreads(0);
  // @ts-expect-error resourceLimits fields must be numbers greater than 0 (megabytes)
  Runtime.builder().resourceLimits({ maxOldGenerationSizeMb: 0 });
  // @ts-expect-error resourceLimits fields must be numbers greater than 0 (megabytes)
  Runtime.builder().resourceLimits({ stackSizeMb: -4 });
  // @ts-expect-error resourceLimits fields must be numbers greater than 0 (megabytes)
  createRuntime({ resourceLimits: { maxYoungGenerationSizeMb: -1 } });
  // @ts-expect-error timer.resolutionMs must be an integer >= 1
  Runtime.builder().timer({ resolutionMs: 0 });
  // @ts-expect-error timer.resolutionMs must be an integer >= 1
  Runtime.builder().timer({ resolutionMs: 1.5 });
  // @ts-expect-error io must be 'auto', 'node' or 'memory'
  Runtime.builder().io('disk');
  // @ts-expect-error memory.strategy must be 'pooled' or 'heap'
  Runtime.builder().memory({ strategy: 'gc' });
  // @ts-expect-error tracing.exporter must be one of the exporters
  Runtime.builder().tracing({ exporter: 'zipkin' });
  // @ts-expect-error tracing.sampleRatio must be a number from 0 to 1
  Runtime.builder().tracing({ sampleRatio: 2 });
  // @ts-expect-error workers must be an integer from 1 to 1024 or 'auto'
  createRuntime({ workers: -1 });
  // @ts-expect-error queueCapacity must be a power of two from 16 to 65536
  createRuntime({ queueCapacity: 1000 });
  // @ts-expect-error strategy must be one of the three
  createRuntime({ strategy: 'fastest' });
  // @ts-expect-error timer.resolutionMs must be an integer >= 1
  createRuntime({ timer: { resolutionMs: 0 } });
});

test('values known only at run time pass the compiler', () => {
  const n: number = Number(process.env.WORKERS ?? 2);
  const s: string = String(process.env.STRATEGY ?? 'local_first');
  Runtime.builder().workers(n).queueCapacity(n).blockingThreads(n).timer({ resolutionMs: n });
  Runtime.builder().strategy(s).io(s).memory({ strategy: s });
  createRuntime({ workers: n, queueCapacity: n });
});

test('the runtime type follows the config', () => {
  const current = Runtime.builder().build();
  expectTypeOf(current).not.toHaveProperty('exec');
  expectTypeOf(current).not.toHaveProperty('map');
  expectTypeOf(current).not.toHaveProperty('spawnBlocking');
  expectTypeOf(current).not.toHaveProperty('blockOn');
  expectTypeOf(current.report).toEqualTypeOf<RuntimeReport<'current_thread'>>();
  // @ts-expect-error a current-thread runtime has no exec
  void current.exec;

  const parallel = Runtime.builder().workers(2).build();
  expectTypeOf(parallel).toHaveProperty('exec');
  expectTypeOf(parallel).toHaveProperty('map');
  expectTypeOf(parallel).toHaveProperty('spawnBlocking');
  expectTypeOf(parallel).toHaveProperty('blockOn');
  expectTypeOf(parallel.report.flavor).toEqualTypeOf<'multi_thread'>();

  const fromObject = createRuntime({ workers: 'auto' });
  expectTypeOf(fromObject).toHaveProperty('exec');
  const plainObject = createRuntime({ io: 'memory' });
  expectTypeOf(plainObject).not.toHaveProperty('exec');
  const noConfig = createRuntime();
  expectTypeOf(noConfig).not.toHaveProperty('exec');
});

test('tasks are awaitable handles', () => {
  const rt = Runtime.builder().build();
  const task = rt.spawn(async () => 42);
  expectTypeOf(task).resolves.toEqualTypeOf<number>();
  expectTypeOf(task.id).toEqualTypeOf<number>();
  expectTypeOf(task.state).toEqualTypeOf<'pending' | 'running' | 'done' | 'failed' | 'aborted'>();
  expectTypeOf(rt.scope(async () => 'x')).resolves.toEqualTypeOf<string>();
});
