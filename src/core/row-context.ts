/**
 * The rows being evaluated: the call's seed and the example each row belongs to, set for one synchronous
 * evaluation. Stochastic layers read it so that, within one attribution call, every forward pass over
 * rows of the same example makes the same random draws (a SpatialShuffle uses one permutation per
 * example for every path point, noisy copy and re-run), which the attribution's axioms (IG's
 * completeness, LRP's conservation) need. Outside a context, layers draw freshly as in training.
 */

/** The rows of one synchronous evaluation. */
export interface RowContext {
  /** The attribution call's seed. */
  readonly seed: number;
  /** The example each row of the evaluated batch belongs to. */
  readonly examples: Int32Array;
}

let current: RowContext | null = null;

/** Runs `run` (synchronous) with `context` as the current row context, restoring the previous one afterwards, also on error. */
export function withRowContext<T>(context: RowContext, run: () => T): T {
  const previous = current;
  current = context;
  try {
    return run();
  } finally {
    current = previous;
  }
}

/** The row context of the evaluation running now, or `null` outside one. */
export function currentRowContext(): RowContext | null {
  return current;
}
