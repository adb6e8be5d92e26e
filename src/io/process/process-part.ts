/**
 * The `process` runtime part (internal): the children a runtime started, so that none
 * outlives the runtime's shutdown, and the memory backend's scripted processes.
 *
 * Implementation note. The part is created on the first `spawnProcess` of a runtime (like
 * the `signals` part), through `rt.part('process')` / `rt.addPart(...)`: the only contact
 * with the runtime is the `RuntimePart` shape (name, metrics, shutdown). Its shutdown
 * terminates every live child (its kill signal, then SIGKILL after its grace period, on
 * host timers since the runtime's own are stopping) and waits until each is reaped. While
 * children are alive, a `process.on('exit')` listener SIGKILLs them if the Node process
 * exits without a shutdown; it is removed when the last child is reaped.
 */
import type { RuntimePart, ZokioRuntime } from '../../runtime/runtime.js';
import { ioDriver } from '../driver.js';
import { nodeProcess } from './node-process.js';
import type { ProcessBackend } from './backend.js';
import { ScriptedProcesses } from './scripted-process.js';

/** @internal What the part needs from a live child. */
export interface LiveChild {
  readonly pid: number;
  /** Kill signal now, SIGKILL after the grace period on a host timer; resolves once reaped. */
  terminateForShutdown(): Promise<unknown>;
  /** SIGKILL, synchronously (the Node process is exiting). */
  killNow(): void;
}

/** Counters of the `process` part, in `rt.metrics().process`. */
export interface ProcessMetrics {
  /** Children started by this runtime. */
  readonly spawned: number;
  /** Children not reaped yet. */
  readonly alive: number;
}

/** @internal */
export class ProcessPart implements RuntimePart {
  readonly name = 'process';
  readonly live = new Set<LiveChild>();
  readonly backend: ProcessBackend;
  readonly scripted: ScriptedProcesses | undefined;
  spawned = 0;
  #exitHook: (() => void) | undefined;

  constructor(memory: boolean) {
    this.scripted = memory ? new ScriptedProcesses() : undefined;
    this.backend = this.scripted ?? nodeProcess;
  }

  add(child: LiveChild): void {
    this.spawned++;
    this.live.add(child);
    if (this.#exitHook === undefined) {
      const hook = (): void => {
        for (const c of this.live) c.killNow();
      };
      this.#exitHook = hook;
      process.on('exit', hook);
    }
  }

  delete(child: LiveChild): void {
    this.live.delete(child);
    if (this.live.size === 0 && this.#exitHook !== undefined) {
      process.off('exit', this.#exitHook);
      this.#exitHook = undefined;
    }
  }

  metrics(): ProcessMetrics {
    return { spawned: this.spawned, alive: this.live.size };
  }

  async shutdown(): Promise<void> {
    await Promise.allSettled([...this.live].map((child) => child.terminateForShutdown()));
  }
}

/** @internal The `process` part of `rt`, created on first use. */
export function processPart(rt: ZokioRuntime): ProcessPart {
  let part = rt.part<ProcessPart>('process');
  if (part === undefined) {
    part = new ProcessPart(ioDriver(rt).backend === 'memory');
    rt.addPart(part);
  }
  return part;
}
