/**
 * Integrated Gradients (Sundararajan, Taly, Yan 2017):
 * `IG(x) = (x − b) ⊙ Σ_k w_k ∇f_c(b + α_k (x − b))` with the quadrature `(α_k, w_k)` of `method`.
 * Completeness: `Σ IG(x) ≈ f_c(x) − f_c(b)`; {@link integratedGradientsDelta} measures the gap.
 */
import * as tf from '@tensorflow/tfjs-core';
import { accumulateOverPoints } from '../core/accumulate';
import { GlassboxArgumentError } from '../core/errors';
import type { ModelLike } from '../core/model';
import type { CommonOptions } from '../core/options';
import { exampleRange, perRow, prepareCall } from '../core/prepare';
import { assertBatchedTensor, resolveBaseline } from '../core/validate';
import { quadrature, type QuadratureMethod } from './quadrature';

/** Options of {@link integratedGradients}. */
export interface IntegratedGradientsOptions extends CommonOptions {
  /** Number of points on the path (default 50, as Captum). */
  steps?: number;
  /** Quadrature rule (default `'gausslegendre'`, as Captum). */
  method?: QuadratureMethod;
  /** Baseline: a number, or a tensor shaped like `x` or `[1, ...features]` (default 0). */
  baseline?: number | tf.Tensor;
}

/**
 * Integrated Gradients of the target score, shaped like `x`. `batchSize` bounds how many path points go
 * through the model at once; the result does not depend on it.
 * @example
 * const ig = await integratedGradients(model, x, { target: 7, steps: 64, baseline: 0 });
 */
export async function integratedGradients(model: ModelLike, x: tf.Tensor, options: IntegratedGradientsOptions = {}): Promise<tf.Tensor> {
  const { alphas, weights } = quadrature(options.method ?? 'gausslegendre', options.steps ?? 50);
  return pathIntegral(model, x, options, alphas, weights);
}

/**
 * The shared path integral of (guided) IG: `(x − b) ⊙ Σ_k w_k ∇f_c(b + α_k (x − b))`. Rows are ordered
 * example-major (row r is example ⌊r/n⌋, point r mod n).
 */
export async function pathIntegral(
  model: ModelLike,
  x: tf.Tensor,
  options: IntegratedGradientsOptions,
  alphas: Float64Array,
  weights: Float64Array,
): Promise<tf.Tensor> {
  const call = await prepareCall(model, x, options);
  let baseline: tf.Tensor | undefined;
  const steps = alphas.length;
  const featureRank = call.featureShape.length;
  try {
    baseline = resolveBaseline(options.baseline, call.input);
    const from = baseline;
    const [integral] = await accumulateOverPoints({
      ...call.plan,
      forward: call.forward,
      target: call.target,
      numExamples: call.numExamples,
      total: call.numExamples * steps,
      needs: 'gradients',
      points: (start, count) => {
        const examples = Int32Array.from({ length: count }, (_, i) => Math.floor((start + i) / steps));
        const rowAlphas = Float32Array.from({ length: count }, (_, i) => alphas[(start + i) % steps]);
        const indices = tf.tensor1d(examples, 'int32');
        const origin = tf.gather(from, indices);
        const destination = tf.gather(call.input, indices);
        return { inputs: tf.add(origin, tf.mul(perRow(rowAlphas, featureRank), tf.sub(destination, origin))), examples };
      },
      terms: (rows, evaluation) => {
        const rowWeights = Float32Array.from({ length: rows.count }, (_, i) => weights[(rows.start + i) % steps]);
        return [tf.mul(evaluation.gradients!, perRow(rowWeights, featureRank))];
      },
    });
    const attribution = tf.tidy(() => tf.mul(tf.sub(call.input, from), integral));
    integral.dispose();
    return attribution;
  } finally {
    baseline?.dispose();
    call.dispose();
  }
}

/** Options of {@link integratedGradientsDelta}. */
export interface IntegratedGradientsDeltaOptions extends CommonOptions {
  /** The baseline the attributions were computed with (default 0). */
  baseline?: number | tf.Tensor;
}

/**
 * Convergence delta of an IG attribution, per example: `δ = Σ IG(x) − (f_c(x) − f_c(b))`. Small |δ|
 * means the quadrature resolved the path integral (completeness axiom).
 */
export async function integratedGradientsDelta(
  model: ModelLike,
  x: tf.Tensor,
  attributions: tf.Tensor,
  options: IntegratedGradientsDeltaOptions = {},
): Promise<tf.Tensor1D> {
  assertBatchedTensor(x, 'x');
  assertBatchedTensor(attributions, 'attributions');
  if (!tf.util.arraysEqual(attributions.shape, x.shape)) {
    throw new GlassboxArgumentError('attributions', `expected the shape of x [${x.shape.join(', ')}], got [${attributions.shape.join(', ')}]`);
  }
  const call = await prepareCall(model, x, options);
  let baseline: tf.Tensor | undefined;
  const n = call.numExamples;
  try {
    baseline = resolveBaseline(options.baseline, call.input);
    const baselines = baseline;
    // Rows 0..n−1 are the inputs (+f), rows n..2n−1 the baselines (−f): the per-example sum is f(x) − f(b).
    const [difference] = await accumulateOverPoints({
      ...call.plan,
      forward: call.forward,
      target: call.target,
      numExamples: n,
      total: 2 * n,
      needs: 'scores',
      points: (start, count) => {
        const rows = exampleRange(start, count);
        const inputs = tf.concat(
          Array.from(rows, (r) => tf.slice(r < n ? call.input : baselines, r % n, 1)),
          0,
        );
        return { inputs, examples: Int32Array.from(rows, (r) => r % n) };
      },
      terms: (rows, evaluation) => [tf.mul(evaluation.scores!, tf.tensor1d(Array.from(rows.examples, (_, i) => (rows.start + i < n ? 1 : -1))))],
    });
    const delta = tf.tidy(() => tf.sub(tf.sum(tf.reshape(attributions, [n, -1]), 1), tf.reshape(difference, [n]))) as tf.Tensor1D;
    difference.dispose();
    return delta;
  } finally {
    baseline?.dispose();
    call.dispose();
  }
}
