/**
 * The `console` runtime part (internal): the consoles `rt.console()` opened, closed when
 * the runtime shuts down.
 *
 * Implementation note. `composeParts` builds it last, so that shutdown closes the consoles
 * (their feeds, span listener, resource hooks and server) before any other part stops. It
 * holds only close functions; the console's code (`server.ts`, which serves through the
 * runtime's own `serve()`) loads on the first `rt.console()`, by URL like a worker entry:
 * `server.ts` from source, `console-server.js` beside the bundle. A static import would
 * close an import cycle through the runtime, and put the console in every bundle.
 *
 * @module
 */
import type { RuntimePart } from '../runtime/part.js';
import type { ConsoleOptions, RuntimeConsole } from './options.js';

/** @internal The signature of `startConsole` in `server.ts`. */
export type StartConsole = (runtime: object, executor: object, part: ConsolePart, input: ConsoleOptions | undefined) => Promise<RuntimeConsole>;

const FROM_SOURCE = import.meta.url.endsWith('.ts');

/** @internal */
export class ConsolePart implements RuntimePart {
  readonly name = 'console';
  readonly #open = new Set<() => Promise<void>>();

  /** Opens a console on `runtime` (whose local executor is `executor`), loading its code on first use. */
  async open(runtime: object, executor: object, input: ConsoleOptions | undefined): Promise<RuntimeConsole> {
    const url = new URL(FROM_SOURCE ? './server.ts' : './console-server.js', import.meta.url);
    const { startConsole } = (await import(url.href)) as { startConsole: StartConsole };
    return startConsole(runtime, executor, this, input);
  }

  /** Registers an open console's close function; returns the function that unregisters it. */
  add(close: () => Promise<void>): () => void {
    this.#open.add(close);
    return () => this.#open.delete(close);
  }

  async shutdown(): Promise<void> {
    const open = [...this.#open];
    this.#open.clear();
    await Promise.allSettled(open.map((close) => close()));
  }
}
