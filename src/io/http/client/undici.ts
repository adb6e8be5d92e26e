/**
 * undici, imported on the first request. Its own module, imported only by the modules that
 * send requests (`request`, `fetch`): the `http-client` part every runtime holds takes the
 * loaded module as an argument, so an application that never sends a request neither
 * loads undici nor carries it in its bundle.
 *
 * @module
 */

/** @internal */
export type Undici = typeof import('undici');

let undici: Undici | undefined;
let loading: Promise<Undici> | undefined;

/** @internal undici once loaded (then used synchronously), or undefined before the first request. */
export function loadedUndici(): Undici | undefined {
  return undici;
}

/** @internal undici, imported on first use. */
export function loadUndici(): Promise<Undici> {
  return (loading ??= import('undici').then((m) => (undici = m)));
}
