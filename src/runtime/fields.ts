/**
 * Copying data between objects without letting the data choose a prototype.
 * @module
 * @internal
 */

/**
 * Sets `out[key] = value` as an own, enumerable data property. A plain assignment to
 * `__proto__` would set the object's prototype instead: the field would vanish from the copy,
 * and data decoded from outside would choose the prototype of the objects it becomes.
 */
export function setOwnField(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}
