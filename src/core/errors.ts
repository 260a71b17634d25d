/**
 * Errors thrown by the library. Every message names the argument, what was expected and what came,
 * so a user can fix the call without reading tfjs internals.
 */

/** A public function was called with an argument it cannot use. */
export class GlassboxArgumentError extends Error {
  /** `'GlassboxArgumentError'`. */
  override name = 'GlassboxArgumentError';
  constructor(
    /** The argument (or option path, e.g. `options.target`) that is wrong. */
    readonly argument: string,
    message: string,
  ) {
    super(`${argument}: ${message}`);
  }
}

/** The model cannot be used the way the method needs (no gradient, unsupported layer, ...). */
export class GlassboxModelError extends Error {
  /** `'GlassboxModelError'`. */
  override name = 'GlassboxModelError';
}

/** Describes a value briefly for error messages: shapes for tensors, JSON-ish for the rest. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return value.length > 8 ? `an array of length ${value.length}` : JSON.stringify(value);
  if (typeof value === 'object' && 'shape' in value && 'dtype' in value) {
    const t = value as { shape: number[]; dtype: string };
    return `a ${t.dtype} tensor of shape [${t.shape.join(', ')}]`;
  }
  return typeof value;
}

/**
 * The error an aborted call rejects with: `name === 'AbortError'`, like `fetch`. A reason that is already
 * an AbortError is rethrown as it is; any other reason given to `controller.abort(reason)` is kept as the
 * error's `cause`.
 */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  const error = new Error('the call was aborted through options.signal', reason === undefined ? undefined : { cause: reason });
  error.name = 'AbortError';
  return error;
}

/** Throws the abort error if `signal` is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}
