/**
 * Evaluating rows of model inputs: the target score of every row, or the scores and their gradients
 * with respect to every model input. Each evaluation is one synchronous scope: the row context
 * (stochastic layers draw per example, see {@link withRowContext}) and the backend-gap fixes exist only
 * while it runs.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { SyncBackendGapOptions } from './backend-gaps';
import { tapedGradients } from './input-gradient';
import type { MemoryProbe } from './memory-budget';
import type { ResolvedModel } from './model';
import { withRowContext } from './row-context';
import type { TargetSelector } from './target';

/** What evaluating rows of one call needs. */
export interface Evaluator {
  readonly model: ResolvedModel;
  readonly target: TargetSelector;
  /** The call's seed, for the row context. */
  readonly seed: number;
  /**
   * Options of the synchronous scope every gradient computation runs in: the call's kernel cache, the
   * model's constants, and gradient overrides of methods with modified backward passes (guided rules).
   */
  readonly scope?: SyncBackendGapOptions;
}

/** Target scores `[rows]` of `inputs` (one tensor per model input, `[rows, ...]`), row r belonging to `examples[r]`. */
export function evaluateScores(evaluator: Evaluator, inputs: readonly tf.Tensor[], examples: Int32Array, memory?: MemoryProbe): tf.Tensor1D {
  return withRowContext({ seed: evaluator.seed, examples }, () => {
    const output = evaluator.model.forward(inputs);
    memory?.sample();
    return evaluator.target.select(output, examples);
  });
}

/** Scores `[rows]` and their gradients with respect to every model input (shaped like `inputs`). */
export interface ScoresAndGradients {
  scores: tf.Tensor1D;
  gradients: tf.Tensor[];
}

/** Target scores of `inputs` and `∂score_r/∂inputs[k][r]` for every row r and model input k. */
export function evaluateGradients(evaluator: Evaluator, inputs: readonly tf.Tensor[], examples: Int32Array, memory?: MemoryProbe): ScoresAndGradients {
  return withRowContext({ seed: evaluator.seed, examples }, () => {
    const { gradients, kept } = tapedGradients<tf.Tensor1D>(
      (xs, keep) => {
        const scores = evaluator.target.select(evaluator.model.forward(xs), examples);
        keep(scores);
        return tf.sum(scores);
      },
      inputs,
      { memory, scope: evaluator.scope },
    );
    return { scores: kept!, gradients };
  });
}
