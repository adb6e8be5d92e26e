import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, RULES, Runtime, ZokioError, createRuntime } from '../../src/index.js';
import { compileSnippets } from '../../scripts/compile-snippets.js';

/** Builds with a value the compiler cannot see, so that only the run-time check applies. */
function runtimeValue<T>(value: T): never {
  return value as never;
}

const cases: Array<{ field: string; rule: string; build: () => unknown }> = [
  { field: 'workers', rule: RULES.workers, build: () => Runtime.builder().workers(runtimeValue(0)).build() },
  { field: 'workers', rule: RULES.workers, build: () => Runtime.builder().workers(runtimeValue(2000)).build() },
  { field: 'workers', rule: RULES.workers, build: () => Runtime.builder().workers(runtimeValue(1.5)).build() },
  { field: 'workers', rule: RULES.workers, build: () => createRuntime({ workers: runtimeValue(-1) }) },
  { field: 'workers', rule: RULES.workers, build: () => createRuntime({ workers: runtimeValue('many') }) },
  { field: 'queueCapacity', rule: RULES.queueCapacity, build: () => Runtime.builder().queueCapacity(runtimeValue(1000)).build() },
  { field: 'queueCapacity', rule: RULES.queueCapacity, build: () => createRuntime({ queueCapacity: runtimeValue(8) }) },
  { field: 'queueCapacity', rule: RULES.queueCapacity, build: () => createRuntime({ queueCapacity: runtimeValue(131072) }) },
  { field: 'strategy', rule: RULES.strategy, build: () => Runtime.builder().strategy(runtimeValue('fastest')).build() },
  { field: 'workStealing', rule: RULES.workStealing, build: () => Runtime.builder().workStealing(runtimeValue('yes')).build() },
  { field: 'blockingThreads', rule: RULES.blockingThreads, build: () => Runtime.builder().blockingThreads(runtimeValue(0)).build() },
  { field: 'timer.resolutionMs', rule: RULES.timerResolution, build: () => Runtime.builder().timer({ resolutionMs: runtimeValue(0) }).build() },
  { field: 'timer.resolutionMs', rule: RULES.timerResolution, build: () => createRuntime({ timer: { resolutionMs: runtimeValue(2.5) } }) },
  { field: 'io', rule: RULES.io, build: () => Runtime.builder().io(runtimeValue('disk')).build() },
  { field: 'memory.strategy', rule: RULES.memoryStrategy, build: () => Runtime.builder().memory({ strategy: runtimeValue('gc') }).build() },
  { field: 'tracing.exporter', rule: RULES.tracingExporter, build: () => Runtime.builder().tracing({ exporter: runtimeValue('zipkin') }).build() },
  { field: 'tracing.sampleRatio', rule: RULES.sampleRatio, build: () => Runtime.builder().tracing({ sampleRatio: runtimeValue(1.5) }).build() },
  { field: 'tracing.sampleRatio', rule: RULES.sampleRatio, build: () => Runtime.builder().tracing({ sampleRatio: runtimeValue(Number.NaN) }).build() },
  { field: 'tracing.path', rule: RULES.tracingPath, build: () => Runtime.builder().tracing({ path: runtimeValue('') }).build() },
  { field: 'resourceLimits.maxOldGenerationSizeMb', rule: RULES.resourceLimits, build: () => Runtime.builder().resourceLimits({ maxOldGenerationSizeMb: runtimeValue(0) }).build() },
  { field: 'resourceLimits.stackSizeMb', rule: RULES.resourceLimits, build: () => createRuntime({ resourceLimits: { stackSizeMb: runtimeValue('4') } }) },
  { field: 'resourceLimits.maxYoungGenerationSizeMb', rule: RULES.resourceLimits, build: () => createRuntime({ resourceLimits: { maxYoungGenerationSizeMb: runtimeValue(Number.NaN) } }) },
  { field: 'resourceLimits', rule: RULES.resourceLimits, build: () => createRuntime({ resourceLimits: runtimeValue(64) }) },
];

describe('ConfigError at build()', () => {
  for (const c of cases) {
    it(`${c.field}: ${c.rule}`, () => {
      let caught: unknown;
      try {
        c.build();
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      expect(caught).toBeInstanceOf(ZokioError);
      const err = caught as ConfigError;
      expect(err.code).toBe('ZOKIO_ERR_CONFIG');
      expect(err.field).toBe(c.field);
      expect(err.message).toContain(c.rule);
    });
  }

  it('rejects unknown fields by name', () => {
    expect(() => createRuntime(runtimeValue({ wrokers: 2 }))).toThrow(/unknown config field 'wrokers'/);
    expect(() => createRuntime({ resourceLimits: runtimeValue({ maxHeapMb: 64 }) })).toThrow(/unknown resourceLimits field 'maxHeapMb'/);
  });

  it('keeps the resource limits that were set, in config and report', () => {
    const rt = Runtime.builder().workers(1).resourceLimits({ maxOldGenerationSizeMb: 96, stackSizeMb: 2 }).build();
    expect(rt.config.resourceLimits).toEqual({ maxOldGenerationSizeMb: 96, stackSizeMb: 2 });
    expect(rt.report.resourceLimits).toEqual({ maxOldGenerationSizeMb: 96, stackSizeMb: 2 });
    expect(rt.describe()).toMatch(/worker limits\s+maxOldGenerationSizeMb 96, stackSizeMb 2/);
    expect(createRuntime().describe()).toMatch(/worker limits\s+node's defaults/);
    void rt.shutdown();
  });

  it('accepts valid run-time values and resolves defaults', () => {
    const rt = Runtime.builder().workers(runtimeValue(3)).queueCapacity(runtimeValue(64)).build();
    expect(rt.config.workers).toBe(3);
    expect(rt.config.queueCapacity).toBe(64);
    expect(rt.config.strategy).toBe('local_first');
    expect(rt.config.timer.resolutionMs).toBe(1);
    void rt.shutdown();
  });
});

describe('compile-time messages name the rule in the same words', () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const snippets: Array<{ code: string; rule: string }> = [
    { code: 'Runtime.builder().workers(0)', rule: RULES.workers },
    { code: 'Runtime.builder().workers(2000)', rule: RULES.workers },
    { code: 'Runtime.builder().workers(1.5)', rule: RULES.workers },
    { code: 'Runtime.builder().queueCapacity(1000)', rule: RULES.queueCapacity },
    { code: "Runtime.builder().strategy('fastest')", rule: RULES.strategy },
    { code: 'Runtime.builder().blockingThreads(0)', rule: RULES.blockingThreads },
    { code: 'Runtime.builder().timer({ resolutionMs: 0 })', rule: RULES.timerResolution },
    { code: "Runtime.builder().io('disk')", rule: RULES.io },
    { code: "Runtime.builder().memory({ strategy: 'gc' })", rule: RULES.memoryStrategy },
    { code: "Runtime.builder().tracing({ exporter: 'zipkin' })", rule: RULES.tracingExporter },
    { code: 'Runtime.builder().tracing({ sampleRatio: 2 })', rule: RULES.sampleRatio },
    { code: 'createRuntime({ workers: -1 })', rule: RULES.workers },
    { code: 'createRuntime({ queueCapacity: 1000 })', rule: RULES.queueCapacity },
    { code: "createRuntime({ strategy: 'fastest' })", rule: RULES.strategy },
    { code: 'Runtime.builder().resourceLimits({ maxOldGenerationSizeMb: 0 })', rule: RULES.resourceLimits },
    { code: 'createRuntime({ resourceLimits: { stackSizeMb: -1 } })', rule: RULES.resourceLimits },
  ];

  it('every invalid literal fails with its rule', () => {
    const files = new Map<string, string>();
    snippets.forEach((s, i) => {
      files.set(`${root}test/__snippet_${i}.ts`, `import { Runtime, createRuntime } from '../src/index.js';\nvoid Runtime; void createRuntime;\n${s.code};\n`);
    });
    const results = compileSnippets(files);
    snippets.forEach((s, i) => {
      const messages = results.get(`${root}test/__snippet_${i}.ts`)!;
      expect(messages.length, `${s.code} should not compile`).toBeGreaterThan(0);
      expect(messages.join('\n'), s.code).toContain(s.rule);
    });
  }, 60_000);
});
