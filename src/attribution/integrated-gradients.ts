/**
 * Integrated Gradients (Sundararajan, Taly, Yan 2017):
 * `IG(x) = (x − b) ⊙ Σ_k w_k ∇f_c(b + α_k (x − b))` with the quadrature `(α_k, w_k)` of `method`.
 * Completeness: `Σ IG(x) ≈ f_c(x) − f_c(b)`; {@link integratedGradientsDelta} measures the gap.
 * Models with several inputs move along one path in all inputs together; the result has one tensor per
 * input and completeness holds for their sum.
 */
import * as tf from '@tensorflow/tfjs-core';
import { accumulateOverPoints } from '../core/accumulate';
import type { Evaluator } from '../core/evaluate';
import { GlassboxArgumentError } from '../core/errors';
import { resolveReference } from '../core/inputs';
import type { ModelLike } from '../core/model';
import { optionKeys } from '../core/option-keys';
import { COMMON_OPTION_KEYS, type CommonOptions } from '../core/options';
import { perRow, prepareCall, type PreparedCall } from '../core/prepare';
import { assertBatchedTensor, assertAllFinite } from '../core/validate';
import { quadrature, type QuadratureMethod } from './quadrature';

/** A baseline: a number, or a tensor shaped like `x`, like `[1, ...features]`, or `[C]` (per channel); an array of these for several inputs. */
export type Baseline = number | tf.Tensor | (number | tf.Tensor)[];

/** Options of {@link integratedGradients}. */
export interface IntegratedGradientsOptions extends CommonOptions {
  /** Number of points on the path (default 50, as Captum). */
  steps?: number;
  /** Quadrature rule (default `'gausslegendre'`, as Captum). */
  method?: QuadratureMethod;
  /** Baseline (default 0). */
  baseline?: Baseline;
}

const IG_KEYS = optionKeys<IntegratedGradientsOptions>()('steps', 'method', 'baseline', ...COMMON_OPTION_KEYS);

/**
 * Integrated Gradients of the target score, shaped like `x` (one tensor per input when `x` is an array).
 * The path points of all examples go through the model in chunks (`batchSize`); the result does not
 * depend on the chunking, and peak memory does not grow with `steps`.
 * @example
 * const ig = await integratedGradients(model, x, { target: 7, steps: 64, baseline: 0 });
 */
export async function integratedGradients(model: ModelLike, x: tf.Tensor, options?: IntegratedGradientsOptions): Promise<tf.Tensor>;
export async function integratedGradients(model: ModelLike, x: tf.Tensor[], options?: IntegratedGradientsOptions): Promise<tf.Tensor[]>;
export async function integratedGradients(
  model: ModelLike,
  x: tf.Tensor | tf.Tensor[],
  options: IntegratedGradientsOptions = {},
): Promise<tf.Tensor | tf.Tensor[]> {
  const call = await prepareCall(model, x, options, { keys: IG_KEYS, gradients: true });
  try {
    const { alphas, weights } = quadrature(options.method ?? 'gausslegendre', options.steps ?? 50);
    const baselines = await resolveReference(options.baseline, call.inputs, 'options.baseline');
    try {
      return call.result(await pathIntegral(call, call.evaluator, baselines, alphas, weights));
    } finally {
      baselines.forEach((b) => b.dispose());
    }
  } finally {
    call.dispose();
  }
}

/**
 * The path integral of (guided) IG, one tensor per input: `(x − b) ⊙ Σ_k w_k ∇f_c(b + α_k (x − b))`.
 * Rows are ordered example-major (row r is example ⌊r/n⌋, point r mod n). `evaluator` may differ from
 * the call's (e.g. one with modified backward rules).
 */
export async function pathIntegral(
  call: PreparedCall,
  evaluator: Evaluator,
  baselines: tf.Tensor[],
  alphas: Float64Array,
  weights: Float64Array,
): Promise<tf.Tensor[]> {
  const steps = alphas.length;
  const inputs = call.inputs.tensors;
  const integrals = await accumulateOverPoints({
    ...call.plan,
    evaluator,
    numExamples: call.numExamples,
    total: call.numExamples * steps,
    needs: 'gradients',
    points: (start, count) => {
      const examples = Int32Array.from({ length: count }, (_, i) => Math.floor((start + i) / steps));
      const rowAlphas = Float32Array.from({ length: count }, (_, i) => alphas[(start + i) % steps]);
      // Rows of one example (one input, or a chunk within one path) broadcast its slice; wasm's
      // gather costs more than the rest of a small model's chunk (0.7 ms for 16 rows of 28×28).
      const single = examples[0] === examples[count - 1];
      const indices = single ? null : tf.tensor1d(examples, 'int32');
      const rowsOf = (t: tf.Tensor) => (indices === null ? (t.shape[0] === 1 ? t : tf.slice(t, examples[0], 1)) : tf.gather(t, indices));
      const points = inputs.map((input, k) => {
        const origin = rowsOf(baselines[k]);
        return tf.add(origin, tf.mul(perRow(rowAlphas, input.rank - 1), tf.sub(rowsOf(input), origin)));
      });
      return { inputs: points, examples };
    },
    terms: (rows, evaluation) => {
      const rowWeights = Float32Array.from({ length: rows.count }, (_, i) => weights[(rows.start + i) % steps]);
      return evaluation.gradients!.map((g) => tf.mul(g, perRow(rowWeights, g.rank - 1)));
    },
  });
  try {
    return tf.tidy(() => integrals.map((integral, k) => tf.mul(tf.sub(inputs[k], baselines[k]), integral)));
  } finally {
    integrals.forEach((t) => t.dispose());
  }
}

/** Options of {@link integratedGradientsDelta}. */
export interface IntegratedGradientsDeltaOptions extends CommonOptions {
  /** The baseline the attributions were computed with (default 0). */
  baseline?: Baseline;
}

const DELTA_KEYS = optionKeys<IntegratedGradientsDeltaOptions>()('baseline', ...COMMON_OPTION_KEYS);

/**
 * Convergence delta of an attribution that should be complete (IG, DeepLift, layer IG), per example:
 * `δ = Σ A(x) − (f_c(x) − f_c(b))`, summed over every input's attribution. Small |δ| means the
 * quadrature resolved the path integral (completeness axiom).
 */
export async function integratedGradientsDelta(
  model: ModelLike,
  x: tf.Tensor | tf.Tensor[],
  attributions: tf.Tensor | tf.Tensor[],
  options: IntegratedGradientsDeltaOptions = {},
): Promise<tf.Tensor1D> {
  const call = await prepareCall(model, x, options, { keys: DELTA_KEYS, gradients: false });
  let baselines: tf.Tensor[] = [];
  let snapshots: tf.Tensor[] = [];
  try {
    snapshots = checkAttributions(attributions, call).map((a) => tf.cast(a, 'float32'));
    await assertAllFinite(snapshots, (i) => (call.inputs.single ? 'attributions' : `attributions[${i}]`));
    const totals = tf.tidy(() => tf.addN(snapshots.map((a) => tf.sum(tf.reshape(a, [call.numExamples, -1]), 1))));
    try {
      baselines = await resolveReference(options.baseline, call.inputs, 'options.baseline');
      const difference = await scoreDifference(call, baselines);
      try {
        return tf.tidy(() => tf.sub(totals, difference) as tf.Tensor1D);
      } finally {
        difference.dispose();
      }
    } finally {
      totals.dispose();
    }
  } finally {
    [...baselines, ...snapshots].forEach((t) => t.dispose());
    call.dispose();
  }
}

/** `f_c(x) − f_c(b)` per example, `[N]`: rows 0..N−1 are the inputs (+f), rows N..2N−1 the baselines (−f). */
export async function scoreDifference(call: PreparedCall, baselines: tf.Tensor[]): Promise<tf.Tensor1D> {
  const n = call.numExamples;
  const [difference] = await accumulateOverPoints({
    ...call.plan,
    evaluator: call.evaluator,
    numExamples: n,
    total: 2 * n,
    needs: 'scores',
    points: (start, count) => {
      const rows = Int32Array.from({ length: count }, (_, i) => start + i);
      const pick = (k: number) =>
        tf.concat(Array.from(rows, (r) => tf.slice(r < n ? call.inputs.tensors[k] : baselines[k], r % n, 1)), 0);
      return { inputs: call.inputs.tensors.map((_, k) => pick(k)), examples: Int32Array.from(rows, (r) => r % n) };
    },
    terms: (rows, evaluation) => [
      tf.mul(evaluation.scores, tf.tensor1d(Array.from(rows.examples, (_, i) => (rows.start + i < n ? 1 : -1)))),
    ],
  });
  const flat = tf.reshape(difference, [n]) as tf.Tensor1D;
  difference.dispose();
  return flat;
}

/** The attributions, one per input and shaped like it. */
function checkAttributions(attributions: unknown, call: PreparedCall): tf.Tensor[] {
  const list = call.inputs.single ? [attributions] : attributions;
  if (!Array.isArray(list) || list.length !== call.inputs.tensors.length) {
    throw new GlassboxArgumentError('attributions', `expected one tensor per input of x (${call.inputs.tensors.length}), got ${Array.isArray(attributions) ? attributions.length : 1}`);
  }
  return list.map((a, i) => {
    const argument = call.inputs.single ? 'attributions' : `attributions[${i}]`;
    assertBatchedTensor(a, argument);
    const shape = call.inputs.tensors[i].shape;
    if (!tf.util.arraysEqual(a.shape, shape)) {
      throw new GlassboxArgumentError(argument, `expected the shape of x [${shape.join(', ')}], got [${a.shape.join(', ')}]`);
    }
    return a;
  });
}
