/**
 * Per-unit Gaussian-copula mutual information of a whole layer at once (Ince et al. 2017's
 * univariate estimators, batched): every unit (column) of the activations is copula-normalised on the
 * backend (ranks by sorting), and its information with the factor comes from closed forms of
 * univariate Gaussians whose sums over samples are matMuls over all units together.
 *
 * With `c` the normal scores of a unit (`var = Σc²/(N − 1)`, the same for every unit):
 * - discrete factor (gcmi `gcmi_model_cd` with d = 1): with class sums `S1_k = Σ_{i∈k} c_i` and
 *   `S2_k = Σ_{i∈k} c_i²` (two matMuls with the one-hot membership), `var_k = (S2_k − S1_k²/n_k)/(n_k − 1)`
 *   and `I = ½ ln var − Σ_k (n_k/N)·½ ln var_k − B(N,1) + Σ_k (n_k/N)·B(n_k,1)`;
 * - continuous D-dimensional factor (gcmi `gcmi_cc` with a univariate x): the joint covariance
 *   `[[var, cᵀ], [c, C_yy]]` has determinant `det C_yy · (var − cᵀC_yy⁻¹c)` (Schur complement), so
 *   `I = ½ ln var − ½ ln(var − ‖c_x ĉ_y‖²/(N − 1)²) − B(N,1) − B(N,D) + B(N,D+1)` with the whitened
 *   factor scores `ĉ_y` (one matMul for all units).
 *
 * Values are in bits. A unit that determines the factor up to float32 precision saturates at
 * ½·log₂(2²⁰) = 10 bits plus the bias terms.
 */
import * as tf from '@tensorflow/tfjs-core';
import { forEachChunk } from '../core/chunks';
import { describeValue, GlassboxArgumentError } from '../core/errors';
import { assertKnownOptions } from '../core/option-keys';
import { assertInteger } from '../core/validate';
import { SINGULAR_PIVOT_SHARE } from './cholesky';
import { columnBlock } from './columns';
import { copulaColumns } from './copnorm';
import { prepareFactor, type Factor, type PreparedFactor } from './factor';
import { normalScores } from './normal-quantile';
import { assertFiniteSamples, samplesMatrix } from './samples';
import { tieBreakOption, warnAboutTies, type TieOptions } from './ties';

/** Options of {@link unitInformation} besides the factor. */
export interface UnitInformationOptions extends TieOptions {
  /** Units copula-normalised at once (memory bound). Default: as many as make 2²¹ values (8 MiB) per tensor. */
  unitsPerChunk?: number;
  /** Called after every chunk with the units done and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Aborting rejects with an `AbortError` and leaks nothing. */
  signal?: AbortSignal;
}

const OPTION_KEYS = ['labels', 'numClasses', 'values', 'unitsPerChunk', 'jitter', 'seed', 'onProgress', 'signal'] as const;

/** Values per chunk tensor when `unitsPerChunk` is not given. */
export const CHUNK_VALUES = 2 ** 21;

/**
 * The Gaussian-copula mutual information (bits) of every unit (column) of `activations` `[N, U]`
 * with one factor: discrete `{ labels, numClasses }` (as {@link gcmiDiscrete} of each column) or
 * continuous `{ values }` `[N]` / `[N, D]` (as {@link gcmi}). Computed on the backend in chunks of
 * units; returns a `[U]` tensor the caller disposes. Ties (e.g. ReLU zeros) are warned about once;
 * `jitter` breaks them at random.
 */
export async function unitInformation(activations: tf.Tensor, options: Factor & UnitInformationOptions): Promise<tf.Tensor1D> {
  if (options === null || typeof options !== 'object') {
    throw new GlassboxArgumentError('options', `expected { labels, numClasses } or { values } (and options), got ${describeValue(options)}`);
  }
  assertKnownOptions(options, OPTION_KEYS);
  const matrix = samplesMatrix(activations, 'activations');
  let factor: PreparedFactor | null = null;
  const results: tf.Tensor1D[] = [];
  const repeats: tf.Tensor1D[] = [];
  try {
    const [n, units] = matrix.shape;
    const unitsPerChunk = options.unitsPerChunk ?? Math.max(1, Math.floor(CHUNK_VALUES / n));
    assertInteger(unitsPerChunk, 'options.unitsPerChunk', 1);
    const unitTies = tieBreakOption(options, 0);
    const factorTies = tieBreakOption(options, 1);
    await assertFiniteSamples(matrix, 'activations');
    factor = await prepareFactor(options, n, 'options', { tieBreak: factorTies });
    const prepared = factor;
    const variance = await scoreVariance(n);
    await forEachChunk({ total: units, batchSize: unitsPerChunk, onProgress: options.onProgress, signal: options.signal }, ({ start, count }) => {
      const chunk = tf.tidy(() => {
        const columns = columnBlock(matrix, start, count);
        const copula = copulaColumns(columns, unitTies && { seed: unitTies.seed, firstColumn: start });
        const information = tf.reshape(unitInformationBlocks(copula.scores, prepared, variance), [count]) as tf.Tensor1D;
        return { information, repeats: copula.repeats };
      });
      results.push(chunk.information);
      repeats.push(chunk.repeats);
    });
    const allRepeats = tf.concat(repeats);
    const shares = await allRepeats.data().finally(() => allRepeats.dispose());
    warnAboutTies([{ argument: 'activations', repeats: shares }], unitTies !== null);
    return tf.concat(results);
  } finally {
    matrix.dispose();
    factor?.dispose();
    tf.dispose([...results, ...repeats]);
  }
}

/** `Σ_r g_r²/(N − 1)` of the normal scores g of N ranks: the variance of every copula-normalised unit. */
export async function scoreVariance(n: number): Promise<number> {
  const sum = tf.tidy(() => tf.sum(tf.square(normalScores(n))));
  const [value] = await sum.data().finally(() => sum.dispose());
  return value / (n - 1);
}

/**
 * `[u, blocks]`: the information (bits) of the units whose copula scores are the rows of `scores`
 * `[u, N]` with every block of `factor` (block 0 observed, the others permuted). `variance` is
 * {@link scoreVariance}. Runs inside the caller's tidy.
 */
export function unitInformationBlocks(scores: tf.Tensor2D, factor: PreparedFactor, variance: number): tf.Tensor2D {
  const [u, n] = scores.shape;
  const { blocks, width } = factor;
  const floor = variance * SINGULAR_PIVOT_SHARE;
  const halfLogVariance = 0.5 * Math.log(variance);
  let nats: tf.Tensor;
  if (factor.kind === 'discrete') {
    const counts = tf.reshape(factor.counts!, [1, 1, width]);
    const sums = tf.reshape(tf.matMul(scores, factor.design), [u, blocks, width]);
    const squares = tf.reshape(tf.matMul(tf.square(scores), factor.design), [u, blocks, width]);
    const within = tf.div(tf.sub(squares, tf.div(tf.square(sums), counts)), tf.sub(counts, 1));
    const weights = tf.div(counts, n);
    const conditional = tf.sum(tf.mul(weights, tf.mul(0.5, tf.log(tf.maximum(within, floor)))), 2);
    nats = tf.sub(halfLogVariance + factor.biasConstant, conditional);
  } else {
    const projections = tf.reshape(tf.matMul(scores, factor.design), [u, blocks, width]);
    const explained = tf.div(tf.sum(tf.square(projections), 2), (n - 1) ** 2);
    const residual = tf.maximum(tf.sub(variance, explained), floor);
    nats = tf.sub(halfLogVariance + factor.biasConstant, tf.mul(0.5, tf.log(residual)));
  }
  return tf.div(nats, Math.LN2) as tf.Tensor2D;
}
