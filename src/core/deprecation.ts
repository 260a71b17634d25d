/**
 * Names renamed for 1.0 keep working for one release: the old name still works, warns once per process
 * (naming its replacement), and giving both the old and the new name is an error.
 */
import { GlassboxArgumentError } from './errors';

const warned = new Set<string>();

/** Warns once per process that `what` is deprecated in favour of `replacement`. */
export function warnDeprecated(what: string, replacement: string): void {
  if (warned.has(what)) return;
  warned.add(what);
  console.warn(`tfjs-glassbox: ${what} is deprecated and will be removed in the next release; use ${replacement}`);
}

/**
 * The value of option `newKey`, or of its former name `oldKey` (with a deprecation warning). Both
 * given is an error naming them.
 */
export function renamedOption<T>(options: object | undefined, newKey: string, oldKey: string, argument = 'options'): T | undefined {
  const record = (options ?? {}) as Record<string, unknown>;
  const current = record[newKey];
  const former = record[oldKey];
  if (former === undefined) return current as T | undefined;
  if (current !== undefined) {
    throw new GlassboxArgumentError(`${argument}.${oldKey}`, `is the former name of ${argument}.${newKey}; give only ${newKey}`);
  }
  warnDeprecated(`${argument}.${oldKey}`, `${argument}.${newKey}`);
  return former as T;
}
