/**
 * The map of a runtime: {@link composeParts} builds every part a resolved config asks for,
 * in dependency order, and {@link stopParts} stops them in the reverse order. Every
 * runtime is made here: `Runtime.builder().build()`, `createRuntime(config)` and the
 * default runtime that free functions use outside `rt.run` (built on first use).
 *
 * Implementation note. Modelled on tokio's `runtime/builder.rs`, which builds the driver,
 * the blocking pool and the scheduler from the config in one readable function. Each
 * part implements `RuntimePart` (`part.ts`) in its own module and imports only that
 * contract and the context or clock it needs, never the runtime class; nothing registers
 * itself when its module is imported. Building a part starts no thread and arms no
 * timer: the pool's workers start on the first `exec`, the blocking threads on the first
 * `spawnBlocking`, signal listeners on the first `onSignal`.
 *
 * Adding a part: write a class implementing `RuntimePart` in the part's own module (its
 * constructor takes the config section and the parts it depends on), add one line to
 * `composeParts` after the parts it uses, and reach it from the runtime or from free
 * functions with `host.part<YourPart>('name')`. Its `metrics()` shows in `rt.metrics()`
 * under its name, and shutdown stops it before every part built earlier.
 *
 * @module
 */
import { ConsolePart } from '../console/console-part.js';
import { RemotePart } from '../distributed/remote-part.js';
import { HttpClientPart } from '../io/http/client/pool.js';
import { IoDriver } from '../io/io-driver.js';
import { ProcessPart } from '../io/process/process-part.js';
import { SignalsPart } from '../io/signals.js';
import { MemoryPart } from '../memory/runtime-part.js';
import { BlockingPart } from '../scheduler/blocking/index.js';
import { systemClock } from '../scheduler/clock.js';
import { PoolPart } from '../scheduler/pool/pool-part.js';
import { TimerDriver } from '../scheduler/timer-driver.js';
import { TracingPart } from '../trace/tracing-part.js';
import type { ResolvedConfig } from './config.js';
import type { PartHost, RuntimePart } from './part.js';

/**
 * Builds the parts of the runtime `host` from `config`, in dependency order, and calls
 * each part's `start()` once all are built. If building or starting one throws (an I/O
 * backend that cannot run here is a `ConfigError`), the parts already built are stopped
 * in reverse and the error is rethrown.
 *
 * *Ordering*: the returned array is the composition order; `rt.shutdown()` stops the
 * parts from its end.
 *
 * @throws ConfigError when a part cannot run with this config here.
 */
export function composeParts(config: ResolvedConfig, host: PartHost): RuntimePart[] {
  const parts: RuntimePart[] = [];
  try {
    // 0. Child processes: first, so shutdown stops them last, after every other part (their
    //    kill escalation then runs on host timers, never on a paused virtual clock).
    parts.push(new ProcessPart(host));
    // 1. Clock and timers: every other part may set timers.
    parts.push(new TimerDriver(systemClock, config.timer.resolutionMs));
    // 2. The I/O driver: fs, net, http, and the servers shutdown closes (after everything built later).
    parts.push(new IoDriver(config.io, host));
    // 2b. The HTTP client's per-origin pools (`.http({...})`): undici loads on the first request.
    parts.push(new HttpClientPart(host));
    // 3. Tracing: before the pools, so it stops after them and gets the spans their workers post.
    //    (A build that defines `globalThis.__ZOKIO_TRACE__` false compiles it out, with every exporter.)
    if ((globalThis as { __ZOKIO_TRACE__?: boolean }).__ZOKIO_TRACE__ !== false) parts.push(new TracingPart(host, config.tracing));
    // 4. Memory: the registry pools and slabs report to; the pool takes its payload arena from it.
    parts.push(new MemoryPart(config.memory.strategy));
    // 5. The work-stealing pool (`.workers(n)` only): workers start on the first exec/map.
    if (config.flavor === 'multi_thread') parts.push(new PoolPart(config, host));
    // 6. The blocking pool: threads start on the first spawnBlocking/blockOn.
    parts.push(new BlockingPart(config, host));
    // 7. OS signals: listeners are added by rt.onSignal and removed first at shutdown.
    parts.push(new SignalsPart(host));
    // 8. Remote tasks (`.distributed({...})` only): the client and BullMQ load on the first call.
    if (config.distributed !== undefined) parts.push(new RemotePart(host, config.distributed));
    // 9. Consoles (`rt.console()`): last, so shutdown closes them before anything else stops.
    parts.push(new ConsolePart());
    for (const part of parts) part.start?.();
  } catch (err) {
    void stopParts(parts, 0).catch(() => undefined);
    throw err;
  }
  return parts;
}

/**
 * Stops `parts` from the last to the first, each after the one built after it has
 * stopped; a part that fails to stop does not keep the others running (the first error is
 * rethrown once all have been asked).
 */
export async function stopParts(parts: readonly RuntimePart[], timeoutMs: number, force = false): Promise<void> {
  let failure: { error: unknown } | undefined;
  for (let i = parts.length - 1; i >= 0; i--) {
    try {
      await parts[i]!.shutdown?.(timeoutMs, force);
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure !== undefined) throw failure.error;
}
