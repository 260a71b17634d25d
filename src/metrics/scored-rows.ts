/**
 * What the model-based metrics share: their score transforms, and a chunked evaluation of the target
 * score at many rows (perturbed copies of the examples) that keeps one score per row on the backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { forEachChunk } from '../core/chunks';
import type { ForwardFunction } from '../core/model';
import type { ScoreTransform } from '../core/score-transform';
import type { PreparedCall } from '../core/prepare';

/** How a metric turns the model output into the score `f_c` it compares. */
export const METRIC_SCORES = ['none', 'softmax', 'sigmoid'] as const;
/**
 * A score transform of the metrics: `'none'` (the output as it is, e.g. a logit), `'softmax'` (over the
 * last axis, the probability of the target; RISE's choice) or `'sigmoid'`.
 */
export type MetricScore = (typeof METRIC_SCORES)[number] & ScoreTransform;

/** The rows of a scoring job. */
export interface ScoredRowsJob {
  /** Number of rows. */
  total: number;
  forward: ForwardFunction;
  /**
   * Optional asynchronous set-up of rows `[start, start + count)` before {@link ScoredRowsJob.rows} runs
   * (e.g. calling a user function that returns a promise).
   */
  prepare?(start: number, count: number): Promise<void> | void;
  /** Model inputs `[count, ...]` of rows `[start, start + count)` and their examples; runs inside `tf.tidy`. */
  rows(start: number, count: number): { inputs: tf.Tensor; examples: Int32Array };
}

/**
 * Target scores of `job.total` rows, `[total]` (caller disposes), in chunks of at most
 * `call.batchSize` model inputs, with the call's progress and abort signal. Leak-free on error/abort.
 */
export async function scoreRows(call: PreparedCall, job: ScoredRowsJob): Promise<tf.Tensor1D> {
  const parts: tf.Tensor[] = [];
  try {
    await forEachChunk({ ...call.plan, total: job.total }, async (start, count) => {
      await job.prepare?.(start, count);
      parts.push(
        tf.tidy(() => {
          const { inputs, examples } = job.rows(start, count);
          return call.target.select(job.forward(inputs), examples);
        }),
      );
    });
    return tf.tidy(() => (parts.length === 1 ? tf.clone(parts[0]) : tf.concat(parts, 0)) as tf.Tensor1D);
  } finally {
    parts.forEach((t) => t.dispose());
  }
}
