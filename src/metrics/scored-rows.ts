/**
 * What the model-based metrics share: their score transform, and a chunked evaluation of the target
 * score at many rows (perturbed copies of the examples) that keeps one score per row on the backend.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { collectOverRows } from '../core/accumulate';
import type { PreparedCall } from '../core/prepare';
import { scoredEvaluator, type ScoreTransform } from '../core/score-transform';

/** The rows of a scoring job. */
export interface ScoredRowsJob {
  /** Number of rows. */
  total: number;
  /** Score transform applied to the model output before the target picks the score. */
  score: ScoreTransform;
  /** Optional asynchronous set-up of rows `[start, start + count)` before {@link ScoredRowsJob.rows} runs. */
  prepare?(start: number, count: number): Promise<void> | void;
  /** Model inputs `[count, ...]` of rows `[start, start + count)` and their examples; runs inside `tf.tidy`. */
  rows(start: number, count: number): { inputs: tf.Tensor; examples: Int32Array };
}

/**
 * Target scores of `job.total` rows, `[total]` (caller disposes), in chunks, with the call's
 * `batchSize`, progress and abort signal. Leak-free on error and abort.
 */
export async function scoreRows(call: PreparedCall, job: ScoredRowsJob): Promise<tf.Tensor1D> {
  const [scores] = await collectOverRows({
    ...call.plan,
    evaluator: scoredEvaluator(call.evaluator, job.score),
    total: job.total,
    needs: 'scores',
    prepare: job.prepare,
    points: (start, count) => {
      const { inputs, examples } = job.rows(start, count);
      return { inputs: [inputs], examples };
    },
    terms: (_rows, evaluation) => [evaluation.scores],
  });
  return scores as tf.Tensor1D;
}
