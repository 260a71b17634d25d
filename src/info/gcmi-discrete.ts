/**
 * Gaussian-copula information with a discrete variable (Ince et al. 2017), in bits:
 *
 * - {@link gcmiDiscrete}, gcmi's `gcmi_model_cd`: `I(x; c)` between continuous x and a class label c as
 *   the entropy of the copula-normalised x (all samples together, covariance `CᵀC/(N − 1)` not
 *   demeaned again) minus the class-weighted entropies of x within each class (demeaned within the
 *   class, `n_k` samples): `[h(C) − B(N, d)] − Σ_k (n_k/N)·[h(C_k) − B(n_k, d)]`;
 * - {@link gccmiDiscrete}: `I(x; y | z) = Σ_k p(k)·gcmi(x_k, y_k)` for a discrete z, with x and y
 *   copula-normalised within each class k (gcmi's `gccmi_ccd`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { GlassboxArgumentError } from '../core/errors';
import { deriveSeed } from '../core/seeded-random';
import { oneHotRows } from '../core/one-hot';
import { gaussianBias } from './bias';
import { halfLogDet } from './cholesky';
import { copulaColumns } from './copnorm';
import { withCopula, jittered } from './copula-variables';
import { columnRange, covarianceOf, entropyTerm, readCovariance } from './covariance';
import { mutualInformationOf, partOf, withVariables } from './gaussian-information';
import { assertClassSizes, assertEnoughSamples, classLabels, classMembers, type Labels } from './samples';
import { tieBreakOption, tieOptions, warnAboutTies, type TieOptions } from './ties';
import { STRICT, type EstimatorMode } from './estimator-mode';
import { transposedMatMul } from '../core/transposed-matmul';

/**
 * `I(x; labels)` in bits between continuous `x` (`[N, d]` or `[N]`) and class labels in
 * 0..numClasses−1. Every class needs more than d samples.
 */
export async function gcmiDiscrete(x: tf.Tensor, labels: Labels, numClasses: number, options: TieOptions = {}): Promise<number> {
  return estimateGcmiDiscrete(x, labels, numClasses, tieOptions(options), STRICT);
}

/** {@link gcmiDiscrete}, in the given {@link EstimatorMode}. */
export async function estimateGcmiDiscrete(x: tf.Tensor, labels: Labels, numClasses: number, options: TieOptions, mode: EstimatorMode): Promise<number> {
  return withVariables([[x, 'x']], async (variables) => {
    const [n, d] = variables[0].matrix.shape;
    const classes = await classLabels(labels, n, numClasses, 'labels', 'numClasses');
    assertEnoughSamples(n, d, 'x');
    assertClassSizes(classes.counts, d, 'labels');
    return withCopula(variables, options, async ({ scored, repeats }) => {
      const classCovariances = tf.tidy(() => withinClassCovariances(scored[0].matrix, classes.labels, classes.counts));
      const read = await readCovariance(scored, { demean: false, checked: variables, extras: [classCovariances, repeats[0]] }).finally(() =>
        classCovariances.dispose(),
      );
      if (mode.warnTies) warnAboutTies([{ argument: 'x', repeats: read.extras[1] }], jittered(options));
      const unconditional = entropyTerm(read.covariance, columnRange(0, d), n, true, 'x', 'x', mode.saturate);
      let conditional = 0;
      classes.counts.forEach((count, k) => {
        const h = halfLogDet({ size: d, values: Float64Array.from(read.extras[0].subarray(k * d * d, (k + 1) * d * d)) }, mode.saturate);
        if (h === null) {
          throw new GlassboxArgumentError('x', `the covariance of x within class ${k} is singular (to float32 precision): a column is constant there`);
        }
        conditional += (count / n) * (h - gaussianBias(count, d));
      });
      return (unconditional - conditional) / Math.LN2;
    });
  });
}

/**
 * `I(x; y | z)` in bits for continuous `x` and `y` and a discrete `z` (labels in 0..numClasses−1):
 * `Σ_k (n_k/N)·I(x_k; y_k)`, each term a {@link gcmi} of the samples of class k, copula-normalised
 * within the class. Every class needs more than dx + dy samples.
 */
export async function gccmiDiscrete(x: tf.Tensor, y: tf.Tensor, zLabels: Labels, numClasses: number, options: TieOptions = {}): Promise<number> {
  return estimateGccmiDiscrete(x, y, zLabels, numClasses, tieOptions(options), STRICT);
}

/** {@link gccmiDiscrete}, in the given {@link EstimatorMode}. */
export async function estimateGccmiDiscrete(
  x: tf.Tensor,
  y: tf.Tensor,
  zLabels: Labels,
  numClasses: number,
  options: TieOptions,
  mode: EstimatorMode,
): Promise<number> {
  return withVariables([[x, 'x'], [y, 'y']], async (variables) => {
    const n = variables[0].matrix.shape[0];
    const dims = variables.map((v) => v.matrix.shape[1]);
    const classes = await classLabels(zLabels, n, numClasses, 'zLabels', 'numClasses');
    assertClassSizes(classes.counts, dims[0] + dims[1], 'zLabels');
    const members = classMembers(classes);
    const tieBreaks = variables.map((_, i) => tieBreakOption(options, i));
    const { covariances, repeats } = tf.tidy(() => {
      const perClass = members.map((rows, k) => {
        const indices = tf.tensor1d(rows, 'int32');
        const copula = variables.map((v, i) => {
          const tieBreak = tieBreaks[i] && { seed: deriveSeed(tieBreaks[i]!.seed, k), firstColumn: 0 };
          return copulaColumns(tf.transpose(tf.gather(v.matrix, indices)), tieBreak);
        });
        const joint = tf.transpose(tf.concat(copula.map((c) => c.scores), 0)) as tf.Tensor2D;
        return { covariance: covarianceOf(joint, false), repeats: copula.map((c) => c.repeats) };
      });
      return {
        covariances: tf.stack(perClass.map((c) => c.covariance)),
        // The worst share of repeats of every column over the classes, per variable.
        repeats: variables.map((_, i) => tf.max(tf.stack(perClass.map((c) => c.repeats[i])), 0)),
      };
    });
    const read = await readCovariance([], { demean: false, checked: variables, extras: [covariances, ...repeats] }).finally(() =>
      tf.dispose([covariances, ...repeats]),
    );
    if (mode.warnTies) warnAboutTies(variables.map((v, i) => ({ argument: v.argument, repeats: read.extras[1 + i] })), jittered(options));
    const size = dims[0] + dims[1];
    const parts = variables.map(partOf);
    return classes.counts.reduce((sum, count, k) => {
      const covariance = { size, values: Float64Array.from(read.extras[0].subarray(k * size * size, (k + 1) * size * size)) };
      return sum + (count / n) * mutualInformationOf(covariance, count, parts, true, mode.saturate);
    }, 0);
  });
}

/**
 * `[K, d, d]`: the covariance of the rows of `scores` `[N, d]` within each class, demeaned within
 * the class, `R_kᵀR_k/(n_k − 1)`, as one batched matMul.
 */
function withinClassCovariances(scores: tf.Tensor2D, labels: Int32Array, counts: number[]): tf.Tensor3D {
  const k = counts.length;
  const [n, d] = scores.shape;
  const membership = oneHotRows(labels, k); // [N, K]
  const sizes = tf.tensor1d(counts);
  const means = tf.div(transposedMatMul(membership, scores), tf.expandDims(sizes, 1)); // [K, d]
  const residuals = tf.sub(scores, tf.matMul(membership, means)); // [N, d]
  const masked = tf.mul(tf.expandDims(tf.transpose(membership), 2), tf.expandDims(residuals, 0)); // [K, N, d]
  const products = transposedMatMul(masked, tf.broadcastTo(tf.expandDims(residuals, 0), [k, n, d])); // [K, d, d]
  return tf.div(products, tf.reshape(tf.sub(sizes, 1), [k, 1, 1])) as tf.Tensor3D;
}
