/**
 * Joint covariances of several variables, computed on the backend as one matMul over samples and read
 * back once (with a finiteness check of every variable in the same read), and the bias-corrected
 * Gaussian entropy terms `h(C_S) − B(N, |S|)` of any subset S of their columns.
 */
import * as tf from '@tensorflow/tfjs-core';
import { GlassboxArgumentError } from '../core/errors';
import { allFinite } from '../core/validate';
import { gaussianBias } from './bias';
import { halfLogDet, SINGULAR_PIVOT_SHARE, submatrix, type SquareMatrix } from './cholesky';
import { transposedMatMul } from '../core/transposed-matmul';

/** A variable: `[N, D]` samples and the argument it came from (for errors). */
export interface Variable {
  matrix: tf.Tensor2D;
  argument: string;
}

/** `XᵀX/(N − 1)` of `x` `[N, D]`, demeaned per column first when `demean` (inside a tidy). */
export function covarianceOf(x: tf.Tensor2D, demean: boolean): tf.Tensor2D {
  return tf.tidy(() => {
    const centred = demean ? tf.sub(x, tf.mean(x, 0, true)) : x;
    return tf.div(transposedMatMul(centred, centred), x.shape[0] - 1) as tf.Tensor2D;
  });
}

/** What {@link readCovariance} read back. */
export interface CovarianceRead {
  covariance: SquareMatrix;
  /** The `extras` tensors' values, in order. */
  extras: Float32Array[];
}

/**
 * The covariance of the columns of all `variables` side by side, read back as float64 together with
 * the `extras` tensors (one read). Throws a {@link GlassboxArgumentError} naming the first variable
 * of `checked` (default: `variables`) that holds NaN or infinite values.
 */
export async function readCovariance(
  variables: Variable[],
  { demean, checked = variables, extras = [] }: { demean: boolean; checked?: Variable[]; extras?: tf.Tensor[] },
): Promise<CovarianceRead> {
  const size = variables.reduce((s, v) => s + v.matrix.shape[1], 0);
  const packed = tf.tidy(() => {
    const flags = checked.map((v) => tf.reshape(tf.cast(allFinite(v.matrix), 'float32'), [1]));
    const parts = [...flags, ...extras.map((e) => tf.reshape(tf.cast(e, 'float32'), [-1]))];
    if (size > 0) {
      const joint = variables.length === 1 ? variables[0].matrix : (tf.concat(variables.map((v) => v.matrix), 1) as tf.Tensor2D);
      parts.splice(flags.length, 0, tf.reshape(covarianceOf(joint, demean), [-1]));
      if (demean) parts.push(tf.mean(tf.square(joint), 0));
    }
    return tf.concat(parts);
  });
  const values = await packed.data().finally(() => packed.dispose());
  checked.forEach((v, i) => {
    if (values[i] !== 1) throw new GlassboxArgumentError(v.argument, 'contains NaN or infinite values');
  });
  let offset = checked.length + size * size;
  const covariance = { size, values: Float64Array.from(values.subarray(checked.length, offset)) };
  const read = extras.map((e) => {
    const part = Float32Array.from(values.subarray(offset, offset + e.size));
    offset += e.size;
    return part;
  });
  if (demean && size > 0) zeroConstantVariances(covariance, values.subarray(offset, offset + size));
  return { covariance, extras: read };
}

/**
 * Sets to 0 the variance of every column whose variance is at most {@link SINGULAR_PIVOT_SHARE} of its
 * second moment `E[x²]`: a constant column demeaned in float32 keeps a rounding residue (webgl's mean of
 * `[1, 1, 1]` is not exactly 1) that no pivot test can tell from a real variance, so it is reported
 * as singular by {@link cholesky} like any other constant column.
 */
function zeroConstantVariances(covariance: SquareMatrix, secondMoments: ArrayLike<number>): void {
  for (let c = 0; c < covariance.size; c++) {
    const diagonal = c * covariance.size + c;
    if (covariance.values[diagonal] <= SINGULAR_PIVOT_SHARE * secondMoments[c]) covariance.values[diagonal] = 0;
  }
}

/** {@link readCovariance} of finite-checked variables without extras. */
export async function jointCovariance(variables: Variable[], demean: boolean): Promise<SquareMatrix> {
  return (await readCovariance(variables, { demean })).covariance;
}

/** Column indices `[start, start + count)`. */
export function columnRange(start: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start + i);
}

/**
 * `h(C_S) − B(N, |S|)` (or `h(C_S)` without bias correction) in nats, `h(C) = Σ log diag chol C`,
 * for the columns S of `covariance`. A covariance that is not positive definite (to float32
 * precision) is reported as an error on `argument`, or saturated (see {@link cholesky}).
 */
export function entropyTerm(
  covariance: SquareMatrix,
  columns: number[],
  samples: number,
  biasCorrect: boolean,
  argument: string,
  what: string,
  saturate = false,
): number {
  const h = halfLogDet(submatrix(covariance, columns), saturate);
  if (h === null) {
    throw new GlassboxArgumentError(
      argument,
      `the covariance of ${what} is singular (to float32 precision): a variable is constant, or a deterministic ` +
        'linear function of the others, so the information is unbounded',
    );
  }
  return biasCorrect ? h - gaussianBias(samples, columns.length) : h;
}
