/**
 * The `process` runtime part (internal): the children a runtime started, so that none
 * outlives the runtime's shutdown, and the memory backend's scripted processes.
 *
 * Implementation note. `composeParts` builds the part first, so that it stops last (after
 * the parts whose tasks may still be waiting on a child); it reads the I/O backend through
 * the part host on first use, and knows nothing else of the runtime. Its shutdown
 * terminates every live child (its kill signal, then SIGKILL after its grace period, on
 * host timers since the runtime's own are stopping) and waits until each is reaped. While
 * children are alive, a `process.on('exit')` listener SIGKILLs them if the Node process
 * exits without a shutdown; it is removed when the last child is reaped.
 */
import type { PartHost, RuntimePart } from '../../runtime/part.js';
import type { IoDriver } from '../io-driver.js';
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
  spawned = 0;
  #exitHook: (() => void) | undefined;
  readonly #host: PartHost;
  #backend: ProcessBackend | undefined;
  #scripted: ScriptedProcesses | undefined;

  constructor(host: PartHost) {
    this.#host = host;
  }

  /** Real child processes, or the memory backend's scripted ones (chosen on first use, from the I/O backend). */
  get backend(): ProcessBackend {
    if (this.#backend === undefined) {
      const memory = this.#host.part<IoDriver>('io')?.backend === 'memory';
      this.#scripted = memory ? new ScriptedProcesses() : undefined;
      this.#backend = this.#scripted ?? nodeProcess;
    }
    return this.#backend;
  }

  /** The scripted processes of the memory backend; undefined on the node backend. */
  get scripted(): ScriptedProcesses | undefined {
    void this.backend;
    return this.#scripted;
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

  /** Undefined until the first spawn, so a runtime that never starts a child shows no `process` key. */
  metrics(): ProcessMetrics | undefined {
    if (this.spawned === 0) return undefined;
    return { spawned: this.spawned, alive: this.live.size };
  }

  async shutdown(): Promise<void> {
    await Promise.allSettled([...this.live].map((child) => child.terminateForShutdown()));
  }
}

/** @internal The `process` part of `rt` (built by `composeParts`). */
export function processPart(rt: object): ProcessPart {
  const part = (rt as PartHost).part<ProcessPart>('process');
  if (part === undefined) throw new Error('zokio: this runtime has no process part');
  return part;
}
