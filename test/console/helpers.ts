// Shared by the console tests: the feed's JSON Schema compiled with ajv, and a runtime on a
// paused VirtualClock with the memory I/O backend (no real port, no wall-clock wait).
import { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'vitest';
import { createRuntime } from '../../src/index.js';
import { CONSOLE_JSON_SCHEMA } from '../../src/console/index.js';
import { VirtualClock } from '../../src/testing/index.js';

const ajv = new Ajv2020({ allErrors: true, strict: true });
ajv.addSchema(CONSOLE_JSON_SCHEMA);

/** The payload kinds of the schema. */
export type PayloadKind = 'state' | 'update' | 'hello' | 'taskDetail' | 'trace' | 'error';

/** Asserts that `payload` is a valid `kind` payload of `zokio.console/1`. */
export function expectPayload(kind: PayloadKind, payload: unknown): void {
  const validate = ajv.getSchema(`${CONSOLE_JSON_SCHEMA.$id}#/$defs/${kind}`)!;
  const ok = validate(payload);
  expect(ok ? [] : validate.errors, `${kind} payload`).toEqual([]);
}

/** A current-thread runtime on the memory backend with a paused virtual clock. */
export function virtualRuntime(): { rt: ReturnType<typeof createRuntime>; clock: VirtualClock } {
  const clock = new VirtualClock();
  const rt = clock.install(createRuntime({ io: 'memory' }));
  clock.pause();
  return { rt, clock };
}

/** A promise and its resolve function (Promise.withResolvers is outside the project's lib). */
export function gate(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
