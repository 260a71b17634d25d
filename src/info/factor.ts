/**
 * The variable that units carry information about — a generative factor, a class — prepared once for
 * the per-unit estimator of {@link unitInformation}: a discrete factor becomes its one-hot membership
 * matrix and class sizes, a continuous one its copula-normalised, whitened samples. Each can carry
 * permuted copies (blocks) for permutation tests, so the observed and every permuted statistic come
 * out of the same matMul.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeValue, GlassboxArgumentError } from '../core/errors';
import { oneHotRows } from '../core/one-hot';
import { gaussianBias } from './bias';
import { cholesky, invertLower } from './cholesky';
import { copulaColumns } from './copnorm';
import { readCovariance } from './covariance';
import { assertClassSizes, assertEnoughSamples, classLabels, samplesMatrix, type Labels } from './samples';
import type { TieBreak } from './ranks';
import { warnAboutTies } from './ties';

/** A discrete variable: class labels in 0..numClasses−1, one per sample. */
export interface DiscreteFactor {
  /** One integer label in `0..numClasses−1` per sample (`number[]`, `Int32Array` or a 1-D tensor). */
  labels: Labels;
  /** K, the number of classes. */
  numClasses: number;
}

/** A continuous variable: `[N]` or `[N, D]` samples. */
export interface ContinuousFactor {
  /** float32 or int32 samples on the first axis: `[N]` (one variable) or `[N, D]`. */
  values: tf.Tensor;
}

/** What units carry information about: a discrete or a continuous variable. */
export type Factor = DiscreteFactor | ContinuousFactor;

/** A factor ready for the per-unit estimator; owns tensors until {@link PreparedFactor.dispose}. */
export interface PreparedFactor {
  kind: 'discrete' | 'continuous';
  samples: number;
  /** Classes (discrete) or dimensions (continuous). */
  width: number;
  /** How many copies: 1 (observed) + the permutations. */
  blocks: number;
  /**
   * `[N, blocks·width]`: the one-hot membership (discrete) or the whitened copula scores
   * `ĉ_y = c_y·L⁻ᵀ`, `L Lᵀ = c_yᵀc_y/(N − 1)` (continuous) of the samples, block b permuted by the
   * b-th permutation (block 0 unpermuted).
   */
  design: tf.Tensor2D;
  /** Discrete: `[width]` class sizes. */
  counts: tf.Tensor1D | null;
  /** The bias terms of the estimator, in nats (added to every unit's value). */
  biasConstant: number;
  /** Class sizes as numbers (discrete), for the caller's checks and weights. */
  classSizes: number[] | null;
  /** The validated labels (discrete), else null. */
  labels: Int32Array | null;
  /** The copula scores `[N, D]` of a continuous factor (for multivariate estimators), else null. */
  copula: tf.Tensor2D | null;
  dispose(): void;
}

/** Is `factor` discrete (labels) rather than continuous (values)? */
export function isDiscreteFactor(factor: Factor): factor is DiscreteFactor {
  return 'labels' in factor;
}

/**
 * Validates `factor` for `samples` samples and prepares it, with `permutations` (each a permutation of
 * 0..N−1) as extra blocks. `argument` names the factor in errors (e.g. `options` or `factors.shape`).
 * Warns about ties in continuous values unless `quiet`.
 */
export async function prepareFactor(
  factor: unknown,
  samples: number,
  argument: string,
  { permutations = [], tieBreak = null, quiet = false }: { permutations?: Int32Array[]; tieBreak?: TieBreak | null; quiet?: boolean } = {},
): Promise<PreparedFactor> {
  if (factor === null || typeof factor !== 'object') {
    throw new GlassboxArgumentError(argument, `expected { labels, numClasses } or { values }, got ${describeValue(factor)}`);
  }
  const hasLabels = 'labels' in factor && (factor as DiscreteFactor).labels !== undefined;
  const hasValues = 'values' in factor && (factor as ContinuousFactor).values !== undefined;
  if (hasLabels === hasValues) {
    throw new GlassboxArgumentError(
      argument,
      hasLabels ? 'give either labels (discrete) or values (continuous), not both' : 'expected { labels, numClasses } (discrete) or { values } (continuous)',
    );
  }
  return hasLabels
    ? prepareDiscrete(factor as DiscreteFactor, samples, argument, permutations)
    : prepareContinuous(factor as ContinuousFactor, samples, argument, permutations, tieBreak, quiet);
}

async function prepareDiscrete({ labels, numClasses }: DiscreteFactor, samples: number, argument: string, permutations: Int32Array[]): Promise<PreparedFactor> {
  const classes = await classLabels(labels, samples, numClasses, `${argument}.labels`, `${argument}.numClasses`);
  assertEnoughSamples(samples, 1, `${argument}.labels`);
  assertClassSizes(classes.counts, 1, `${argument}.labels`);
  const { design, counts } = tf.tidy(() => {
    const membership = oneHotRows(classes.labels, numClasses);
    return { design: withPermutedBlocks(membership, permutations), counts: tf.tensor1d(classes.counts) };
  });
  const biasConstant = -gaussianBias(samples, 1) + classes.counts.reduce((s, n) => s + (n / samples) * gaussianBias(n, 1), 0);
  return {
    kind: 'discrete',
    samples,
    width: numClasses,
    blocks: 1 + permutations.length,
    design,
    counts,
    biasConstant,
    classSizes: classes.counts,
    labels: classes.labels,
    copula: null,
    dispose: () => tf.dispose([design, counts]),
  };
}

async function prepareContinuous(
  { values }: ContinuousFactor,
  samples: number,
  argument: string,
  permutations: Int32Array[],
  tieBreak: TieBreak | null,
  quiet: boolean,
): Promise<PreparedFactor> {
  const where = `${argument}.values`;
  const matrix = samplesMatrix(values, where);
  try {
    if (matrix.shape[0] !== samples) {
      throw new GlassboxArgumentError(where, `expected ${samples} samples (like the activations) on the first axis, got ${matrix.shape[0]}`);
    }
    const d = matrix.shape[1];
    assertEnoughSamples(samples, d + 1, where);
    const { scores, repeats } = tf.tidy(() => {
      const copula = copulaColumns(tf.transpose(matrix), tieBreak);
      return { scores: tf.transpose(copula.scores) as tf.Tensor2D, repeats: copula.repeats };
    });
    try {
      const read = await readCovariance([{ matrix: scores, argument: where }], { demean: false, checked: [{ matrix, argument: where }], extras: [repeats] });
      if (!quiet) warnAboutTies([{ argument: where, repeats: read.extras[0] }], tieBreak !== null);
      const l = cholesky(read.covariance);
      if (l === null) {
        throw new GlassboxArgumentError(where, 'the copula covariance of the values is singular: a column is a monotone function of the others');
      }
      const whitening = invertLower(l, d);
      const design = tf.tidy(() => {
        const whitened = tf.matMul(scores, tf.tensor2d(Float32Array.from(whitening), [d, d]), false, true) as tf.Tensor2D;
        return withPermutedBlocks(whitened, permutations);
      });
      const biasConstant = -gaussianBias(samples, 1) - gaussianBias(samples, d) + gaussianBias(samples, d + 1);
      return {
        kind: 'continuous',
        samples,
        width: d,
        blocks: 1 + permutations.length,
        design,
        counts: null,
        biasConstant,
        classSizes: null,
        labels: null,
        copula: scores,
        dispose: () => tf.dispose([design, scores]),
      };
    } catch (error) {
      scores.dispose();
      throw error;
    } finally {
      repeats.dispose();
    }
  } finally {
    matrix.dispose();
  }
}

/** `[N, (1 + P)·W]`: `matrix` `[N, W]` followed by its rows permuted by each permutation. */
function withPermutedBlocks(matrix: tf.Tensor2D, permutations: Int32Array[]): tf.Tensor2D {
  return tf.tidy(() => {
    if (permutations.length === 0) return tf.clone(matrix);
    const permuted = permutations.map((p) => tf.gather(matrix, tf.tensor1d(p, 'int32')));
    return tf.concat([matrix, ...permuted], 1) as tf.Tensor2D;
  });
}
