/**
 * Entropy, mutual information and conditional mutual information of Gaussian variables from their
 * sample covariance (Ince et al. 2017, gcmi's `ent_g`, `mi_gg`, `cmi_ggg`), in bits. Samples are on
 * the first axis (`[N, D]`, or `[N]` for one variable). With `biasCorrect` (default) every entropy
 * term `h(C) = Σ log diag chol C` loses its bias `B(N, d)` (see {@link gaussianBias}).
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeValue, GlassboxArgumentError } from '../core/errors';
import { assertKnownOptions } from '../core/option-keys';
import { columnRange, entropyTerm, jointCovariance, type Variable } from './covariance';
import type { SquareMatrix } from './cholesky';
import { assertEnoughSamples, assertSameSamples, samplesMatrix } from './samples';

/** Options of the parametric Gaussian estimators. */
export interface GaussianOptions {
  /** Subtract the bias of each entropy term (default `true`, as gcmi). */
  biasCorrect?: boolean;
}

/**
 * The entropy of a Gaussian variable in bits (gcmi `ent_g`):
 * `[h(C) + d/2·(ln 2π + 1) − B(N, d)] / ln 2` with C the covariance of the demeaned samples `x` `[N, d]`.
 */
export async function gaussianEntropy(x: tf.Tensor, options: GaussianOptions = {}): Promise<number> {
  const biasCorrect = biasCorrectOption(options);
  return withVariables([[x, 'x']], async ([vx]) => {
    const [n, d] = vx.matrix.shape;
    assertEnoughSamples(n, d, 'x');
    const covariance = await jointCovariance([vx], true);
    const h = entropyTerm(covariance, columnRange(0, d), n, biasCorrect, 'x', 'x');
    return (h + (d / 2) * (Math.log(2 * Math.PI) + 1)) / Math.LN2;
  });
}

/**
 * Mutual information between two Gaussian variables in bits (gcmi `mi_gg`):
 * `I = [H(x) + H(y) − H(x, y)] / ln 2` with the `h − B` terms of one joint covariance of the demeaned
 * samples.
 */
export async function gaussianMI(x: tf.Tensor, y: tf.Tensor, options: GaussianOptions = {}): Promise<number> {
  const biasCorrect = biasCorrectOption(options);
  return withVariables([[x, 'x'], [y, 'y']], async (variables) => {
    const covariance = await jointCovariance(variables, true);
    return mutualInformationOf(covariance, variables[0].matrix.shape[0], variables.map(partOf), biasCorrect);
  });
}

/**
 * Conditional mutual information `I(x; y | z)` of Gaussian variables in bits (gcmi `cmi_ggg`):
 * `[H(x, z) + H(y, z) − H(x, y, z) − H(z)] / ln 2` from one joint covariance of the demeaned samples.
 */
export async function gaussianCMI(x: tf.Tensor, y: tf.Tensor, z: tf.Tensor, options: GaussianOptions = {}): Promise<number> {
  const biasCorrect = biasCorrectOption(options);
  return withVariables([[x, 'x'], [y, 'y'], [z, 'z']], async (variables) => {
    const covariance = await jointCovariance(variables, true);
    return conditionalInformationOf(covariance, variables[0].matrix.shape[0], variables.map(partOf), biasCorrect);
  });
}

/** A block of columns of a joint covariance: its width and the argument it came from. */
export interface Part {
  dims: number;
  argument: string;
}

/** The {@link Part} of a variable. */
export function partOf(v: Variable): Part {
  return { dims: v.matrix.shape[1], argument: v.argument };
}

/**
 * `I(x; y)` in bits from the joint covariance of `[x, y]` (columns of x first) of `samples` samples.
 * Checks the sample count against the joint dimension.
 */
export function mutualInformationOf(covariance: SquareMatrix, samples: number, [px, py]: Part[], biasCorrect: boolean, saturate = false): number {
  assertEnoughSamples(samples, px.dims + py.dims, py.argument);
  const term = (columns: number[], argument: string, what: string) => entropyTerm(covariance, columns, samples, biasCorrect, argument, what, saturate);
  const hx = term(columnRange(0, px.dims), px.argument, px.argument);
  const hy = term(columnRange(px.dims, py.dims), py.argument, py.argument);
  const hxy = term(columnRange(0, px.dims + py.dims), py.argument, `${px.argument} and ${py.argument} together`);
  return (hx + hy - hxy) / Math.LN2;
}

/** `I(x; y | z)` in bits from the joint covariance of `[x, y, z]` of `samples` samples. */
export function conditionalInformationOf(
  covariance: SquareMatrix,
  samples: number,
  [px, py, pz]: Part[],
  biasCorrect: boolean,
  saturate = false,
): number {
  assertEnoughSamples(samples, px.dims + py.dims + pz.dims, pz.argument);
  const x = columnRange(0, px.dims);
  const y = columnRange(px.dims, py.dims);
  const z = columnRange(px.dims + py.dims, pz.dims);
  const term = (columns: number[], argument: string, ...parts: Part[]) =>
    entropyTerm(covariance, columns, samples, biasCorrect, argument, parts.map((p) => p.argument).join(', '), saturate);
  const hz = term(z, pz.argument, pz);
  const hxz = term([...x, ...z], px.argument, px, pz);
  const hyz = term([...y, ...z], py.argument, py, pz);
  const hxyz = term([...x, ...y, ...z], py.argument, px, py, pz);
  return (hxz + hyz - hxyz - hz) / Math.LN2;
}

/**
 * Validates the tensors as `[N, D]` variables with one N (the first one's), runs `fn` on them and
 * disposes the float32 copies whatever happens.
 */
export async function withVariables<T>(inputs: [unknown, string][], fn: (variables: Variable[]) => Promise<T>): Promise<T> {
  const variables: Variable[] = [];
  try {
    for (const [value, argument] of inputs) {
      const matrix = samplesMatrix(value, argument);
      variables.push({ matrix, argument });
      assertSameSamples(matrix, variables[0].matrix.shape[0], argument, variables[0].argument);
    }
    return await fn(variables);
  } finally {
    variables.forEach((v) => v.matrix.dispose());
  }
}

function biasCorrectOption(options: GaussianOptions): boolean {
  if (options === null || typeof options !== 'object') throw new GlassboxArgumentError('options', `expected an object, got ${describeValue(options)}`);
  assertKnownOptions(options, ['biasCorrect'], 'options');
  const { biasCorrect = true } = options;
  if (typeof biasCorrect !== 'boolean') throw new GlassboxArgumentError('options.biasCorrect', `expected a boolean, got ${describeValue(biasCorrect)}`);
  return biasCorrect;
}
