/**
 * The Gaussian copula transform (Ince et al. 2017): every column is replaced by the standard normal
 * quantiles of its ranks, `Φ⁻¹(r/(N + 1))` with stable ranks r = 1..N, so its marginal becomes
 * standard normal while the dependence between variables (the copula) is kept.
 */
import * as tf from '@tensorflow/tfjs-core';
import { GlassboxArgumentError } from '../core/errors';
import { allFinite } from '../core/validate';
import { columnRanks, type TieBreak } from './ranks';
import { normalScores } from './normal-quantile';
import { samplesMatrix } from './samples';
import { tieBreakOption, tieOptions, warnAboutTies, type TieOptions } from './ties';

/** Copula-normalised columns and the share of repeated values of each. */
export interface CopulaColumns {
  /** `[C, N]`: the normal scores of the columns' ranks. */
  scores: tf.Tensor2D;
  /** `[C]`: share of repeated values of each column. */
  repeats: tf.Tensor1D;
}

/** Copula transform of the rows of `columns` `[C, N]` (columns as rows, samples along axis 1). */
export function copulaColumns(columns: tf.Tensor2D, tieBreak: TieBreak | null): CopulaColumns {
  return tf.tidy(() => {
    const { ranks, repeats } = columnRanks(columns, tieBreak);
    const scores = tf.gather(normalScores(columns.shape[1]), ranks) as tf.Tensor as tf.Tensor2D;
    return { scores, repeats };
  });
}

/**
 * Copula-normalises `x` (`[N, D]` or `[N]`, samples first) per column: `Φ⁻¹(rank/(N + 1))` with
 * stable ranks (ties in sample order, as gcmi; or at random with `{ jitter: true, seed }`). Returns
 * `[N, D]`. Warns when more than 10 % of a column's values repeat. Synchronous: it reads back one
 * small summary (finiteness and ties) with `dataSync`.
 */
export function copnorm(x: tf.Tensor, options: TieOptions = {}): tf.Tensor2D {
  const tieBreak = tieBreakOption(tieOptions(options), 0);
  const matrix = samplesMatrix(x, 'x');
  try {
    const { scores, summary } = tf.tidy(() => {
      const copula = copulaColumns(tf.transpose(matrix), tieBreak);
      const finite = allFinite(matrix);
      return { scores: tf.transpose(copula.scores) as tf.Tensor2D, summary: tf.concat([tf.cast(tf.reshape(finite, [1]), 'float32'), copula.repeats]) };
    });
    const values = summary.dataSync();
    summary.dispose();
    if (values[0] !== 1) {
      scores.dispose();
      throw new GlassboxArgumentError('x', 'contains NaN or infinite values; ranks need finite values');
    }
    warnAboutTies([{ argument: 'x', repeats: values.subarray(1) }], tieBreak !== null);
    return scores;
  } finally {
    matrix.dispose();
  }
}
