/** Copula-normalised copies of validated variables, for the gcmi estimators. */
import * as tf from '@tensorflow/tfjs-core';
import { copulaColumns } from './copnorm';
import type { Variable } from './covariance';
import { tieBreakOption, type TieOptions } from './ties';

/** The copula-normalised variables (same arguments) and the shares of repeated values of their columns. */
export interface CopulaVariables {
  scored: Variable[];
  repeats: tf.Tensor1D[];
}

/**
 * Runs `fn` on the copula transforms of `variables` (each variable with its own tie-breaking seed when
 * jittered) and disposes them afterwards.
 */
export async function withCopula<T>(variables: Variable[], options: TieOptions, fn: (copula: CopulaVariables) => Promise<T>): Promise<T> {
  const tieBreaks = variables.map((_, i) => tieBreakOption(options, i));
  const parts = variables.map((v, i) =>
    tf.tidy(() => {
      const { scores, repeats } = copulaColumns(tf.transpose(v.matrix), tieBreaks[i]);
      return { scored: { matrix: tf.transpose(scores) as tf.Tensor2D, argument: v.argument }, repeats };
    }),
  );
  try {
    return await fn({ scored: parts.map((p) => p.scored), repeats: parts.map((p) => p.repeats) });
  } finally {
    parts.forEach((p) => tf.dispose([p.scored.matrix, p.repeats]));
  }
}

/** Whether `options` asks for random tie-breaking. */
export function jittered(options: TieOptions): boolean {
  return options.jitter === true;
}
