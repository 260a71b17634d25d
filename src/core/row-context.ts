/**
 * The rows an attribution is evaluating right now. Stochastic layers (e.g. `SpatialShuffle`) read it so
 * that every forward pass of one attribution call treats the rows of one example alike: IG's path
 * points, LRP's re-run forward passes and noise samples of an example all see the same random draw,
 * which makes the model one fixed function per example for the duration of the call.
 * @module
 */
import { describeValue, GlassboxArgumentError } from './errors';

/** The rows being evaluated: the call's seed and the example each row belongs to; set for one synchronous evaluation. */
export interface RowContext {
  /** Seed of the attribution call (the same for every chunk of the call). */
  readonly seed: number;
  /** `examples[r]` is the index (in the caller's batch) of the example that row `r` belongs to. */
  readonly examples: Int32Array;
}

let current: RowContext | null = null;

/**
 * Runs `run` with `context` as the current row context and returns its result. Synchronous only: the
 * context is the previous one again when `run` returns or throws (contexts nest), so it must not be
 * read after an `await`.
 * @example
 * const y = withRowContext({ seed: 7, examples: new Int32Array([0, 0, 1, 1]) }, () => model.predict(x));
 */
export function withRowContext<T>(context: RowContext, run: () => T): T {
  if (context === null || typeof context !== 'object' || !Number.isInteger(context.seed) || !(context.examples instanceof Int32Array)) {
    throw new GlassboxArgumentError('context', `expected { seed: integer, examples: Int32Array }, got ${describeValue(context)}`);
  }
  if (typeof run !== 'function') throw new GlassboxArgumentError('run', `expected a function, got ${describeValue(run)}`);
  const previous = current;
  current = context;
  try {
    return run();
  } finally {
    current = previous;
  }
}

/** The row context of the evaluation in progress, or `null` outside {@link withRowContext}. */
export function currentRowContext(): RowContext | null {
  return current;
}
