/**
 * A file written in appends by one exporter: opened (truncated) on the first write,
 * closed at shutdown.
 *
 * Implementation note. Writes are synchronous on purpose: an exporter writes one batch at
 * a time from the span buffer's flush (never from the traced code), a batch is a few
 * hundred kilobytes at most, and synchronous writes keep the file complete up to the last
 * batch even when the process exits without shutting the runtime down.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** @internal */
export class FileSink {
  readonly path: string;
  #fd: number | undefined = undefined;

  constructor(path: string) {
    this.path = path;
  }

  /** True once something was written. */
  get opened(): boolean {
    return this.#fd !== undefined;
  }

  write(text: string): void {
    if (this.#fd === undefined) {
      mkdirSync(dirname(this.path), { recursive: true });
      this.#fd = openSync(this.path, 'w');
    }
    writeSync(this.#fd, text);
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
