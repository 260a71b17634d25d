/**
 * DeepLift with the Rescale rule (Shrikumar, Greenside, Kundaje 2017) and DeepLiftShap (Lundberg & Lee
 * 2017), with Captum's semantics: the attribution of input feature `i` is `(x_i − x₀_i)·m_i`, where the
 * multipliers `m` are the gradient of the target score computed with DeepLift's backward rules
 * (`deepLiftOverrides`: Rescale at element-wise non-linearities, Captum's rule at max pooling). When
 * every non-linearity of the model is one of those kernels, the attributions sum to `f(x) − f(x₀)`
 * over all features of all inputs (summation to delta).
 *
 * Each example runs through the model in one batch with its reference (the chunk stacks the examples
 * over their references, `[x; x₀]`), so the rules see both halves; `batchSize` and progress count both
 * rows. A final softmax or sigmoid is left out (see `logitModel`): DeepLift explains the logit.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { accumulateOverPoints } from '../../core/accumulate';
import type { Evaluator } from '../../core/evaluate';
import { resolveReference } from '../../core/inputs';
import type { ModelLike } from '../../core/model';
import { optionKeys } from '../../core/option-keys';
import { COMMON_OPTION_KEYS, type CommonOptions } from '../../core/options';
import { prepareCall, type PreparedCall } from '../../core/prepare';
import { resolveBaselineSet, type BaselineSet } from '../baseline-set';
import type { Baseline } from '../integrated-gradients';
import { logitModel } from '../logit-model';
import { withGradientOverrides } from '../modified-gradients';
import { deepLiftOverrides } from './rescale-rules';

/** Options of {@link deepLift}. */
export interface DeepLiftOptions extends CommonOptions {
  /** The reference input x₀ (default 0): a number, a tensor like `x`, `[1, ...features]` or `[C]`; an array per input. */
  baseline?: Baseline;
}

/** Options of {@link deepLiftShap}. */
export interface DeepLiftShapOptions extends CommonOptions {
  /** Required: B reference inputs, `[B, ...features]` (one tensor per model input for several). */
  baselines?: BaselineSet;
}

const DEEP_LIFT_KEYS = optionKeys<DeepLiftOptions>()('baseline', ...COMMON_OPTION_KEYS);
const DEEP_LIFT_SHAP_KEYS = optionKeys<DeepLiftShapOptions>()('baselines', ...COMMON_OPTION_KEYS);

/**
 * DeepLift (Rescale rule) attribution of the target score (the logit before a final softmax or
 * sigmoid), shaped like `x` (one tensor per input when `x` is an array). Summation to delta:
 * `Σ attribution = f(x) − f(baseline)` for models whose non-linearities DeepLift's rules cover.
 * @example
 * const attribution = await deepLift(model, images, { target: 3, baseline: 0 });
 */
export async function deepLift(model: ModelLike, x: tf.Tensor, options?: DeepLiftOptions): Promise<tf.Tensor>;
export async function deepLift(model: ModelLike, x: tf.Tensor[], options?: DeepLiftOptions): Promise<tf.Tensor[]>;
export async function deepLift(model: ModelLike, x: tf.Tensor | tf.Tensor[], options: DeepLiftOptions = {}): Promise<tf.Tensor | tf.Tensor[]> {
  const call = await prepareCall(model, x, options, { keys: DEEP_LIFT_KEYS, gradients: true });
  try {
    const baselines = await resolveReference(options.baseline, call.inputs, 'options.baseline');
    try {
      // Pair p is example p with its own baseline, row p.
      return call.result(await rescaleAttribution(model, call, baselines, 1, (p) => p));
    } finally {
      baselines.forEach((b) => b.dispose());
    }
  } finally {
    call.dispose();
  }
}

/**
 * DeepLiftShap attribution: the mean of {@link deepLift} over the B baselines of `options.baselines`
 * (Captum's DeepLiftShap), shaped like `x`. Summation to delta: `Σ attribution = f(x) − mean_b f(b)`.
 * @example
 * const attribution = await deepLiftShap(model, images, { target: 3, baselines: backgroundImages });
 */
export async function deepLiftShap(model: ModelLike, x: tf.Tensor, options?: DeepLiftShapOptions): Promise<tf.Tensor>;
export async function deepLiftShap(model: ModelLike, x: tf.Tensor[], options?: DeepLiftShapOptions): Promise<tf.Tensor[]>;
export async function deepLiftShap(model: ModelLike, x: tf.Tensor | tf.Tensor[], options: DeepLiftShapOptions = {}): Promise<tf.Tensor | tf.Tensor[]> {
  const call = await prepareCall(model, x, options, { keys: DEEP_LIFT_SHAP_KEYS, gradients: true });
  try {
    const set = await resolveBaselineSet(options.baselines, call.inputs, 'options.baselines');
    try {
      // Pair p is example ⌊p / B⌋ with baseline p mod B of the set.
      return call.result(await rescaleAttribution(model, call, set.tensors, set.size, (p) => p % set.size));
    } finally {
      set.tensors.forEach((b) => b.dispose());
    }
  } finally {
    call.dispose();
  }
}

/**
 * `mean_j (x_e − r_j) ⊙ m(x_e, r_j)` per example e over its `perExample` pairs: pair p is example
 * ⌊p / perExample⌋ with row `referenceRow(p)` of `references`. Row layout of a chunk of 2n rows (pairs
 * p₀ … p₀+n−1): the n inputs, then their n references.
 */
async function rescaleAttribution(
  source: ModelLike,
  call: PreparedCall,
  references: tf.Tensor[],
  perExample: number,
  referenceRow: (pair: number) => number,
): Promise<tf.Tensor[]> {
  const logit = await logitModel(source, call.model);
  try {
    const evaluator: Evaluator = withGradientOverrides({ ...call.evaluator, model: logit.model }, deepLiftOverrides());
    const inputs = call.inputs.tensors;
    const pairs = call.numExamples * perExample;
    return await accumulateOverPoints({
      ...call.plan,
      granularity: 2,
      evaluator,
      numExamples: call.numExamples,
      total: 2 * pairs,
      needs: 'gradients',
      points: (start, count) => {
        const first = start / 2;
        const pairExamples = Int32Array.from({ length: count / 2 }, (_, i) => Math.floor((first + i) / perExample));
        const rows = tf.tensor1d(pairExamples, 'int32');
        const referenceRows = tf.tensor1d(Int32Array.from(pairExamples, (_, i) => referenceRow(first + i)), 'int32');
        return {
          inputs: inputs.map((input, k) => tf.concat([tf.gather(input, rows), tf.gather(references[k], referenceRows)], 0)),
          examples: Int32Array.from({ length: count }, (_, r) => pairExamples[r % pairExamples.length]),
        };
      },
      // The input half's terms; the reference half adds nothing.
      terms: (rows, evaluation) =>
        evaluation.gradients!.map((gradient, k) => {
          const n = rows.count / 2;
          const difference = tf.sub(tf.slice(rows.inputs[k], 0, n), tf.slice(rows.inputs[k], n, n));
          const term = tf.mul(tf.mul(difference, tf.slice(gradient, 0, n)), 1 / perExample);
          return tf.concat([term, tf.zerosLike(term)], 0);
        }),
    });
  } finally {
    logit.dispose();
  }
}
