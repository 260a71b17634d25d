/**
 * Plain gradient attributions.
 *
 * - Saliency (Simonyan et al. 2014): `|∂f_c/∂x|` (Captum's default `abs: true`).
 * - Gradient × Input (Shrikumar et al. 2016): `x ⊙ ∂f_c/∂x`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { collectOverRows } from '../core/accumulate';
import type { GradientOverride } from '../core/backend-gaps';
import type { ModelLike } from '../core/model';
import { optionKeys } from '../core/option-keys';
import { COMMON_OPTION_KEYS, type CommonOptions } from '../core/options';
import { exampleRows, prepareCall } from '../core/prepare';
import { assertBoolean } from '../core/validate';
import { withGradientOverrides } from './modified-gradients';

/** Options of {@link saliency}. */
export interface SaliencyOptions extends CommonOptions {
  /** Return `|∂f_c/∂x|` (default, as Captum) or the signed gradient. */
  abs?: boolean;
}

const SALIENCY_KEYS = optionKeys<SaliencyOptions>()('abs', ...COMMON_OPTION_KEYS);
const GRADIENT_X_INPUT_KEYS = optionKeys<CommonOptions>()(...COMMON_OPTION_KEYS);

/**
 * Saliency map `|∂f_c/∂x|` (Simonyan, Vedaldi, Zisserman 2014), one per example, shaped like `x` (one
 * map per input when `x` is an array).
 * @example
 * const map = await saliency(model, images, { target: 3 });
 */
export async function saliency(model: ModelLike, x: tf.Tensor, options?: SaliencyOptions): Promise<tf.Tensor>;
export async function saliency(model: ModelLike, x: tf.Tensor[], options?: SaliencyOptions): Promise<tf.Tensor[]>;
export async function saliency(model: ModelLike, x: tf.Tensor | tf.Tensor[], options: SaliencyOptions = {}): Promise<tf.Tensor | tf.Tensor[]> {
  const abs = assertBoolean(options?.abs ?? true, 'options.abs');
  return inputGradientAttribution(model, x, options, SALIENCY_KEYS, (gradient) => (abs ? tf.abs(gradient) : gradient));
}

/** Gradient × Input `x ⊙ ∂f_c/∂x` (Shrikumar et al. 2016), shaped like `x`. */
export async function gradientXInput(model: ModelLike, x: tf.Tensor, options?: CommonOptions): Promise<tf.Tensor>;
export async function gradientXInput(model: ModelLike, x: tf.Tensor[], options?: CommonOptions): Promise<tf.Tensor[]>;
export async function gradientXInput(model: ModelLike, x: tf.Tensor | tf.Tensor[], options: CommonOptions = {}): Promise<tf.Tensor | tf.Tensor[]> {
  return inputGradientAttribution(model, x, options, GRADIENT_X_INPUT_KEYS, (gradient, input) => tf.mul(gradient, input));
}

/**
 * One gradient per example and input, mapped by `combine(gradient, input)`, in chunks; `overrides`
 * replace the gradients of their kernels (modified backward passes such as guided backpropagation).
 */
export async function inputGradientAttribution(
  model: ModelLike,
  x: tf.Tensor | tf.Tensor[],
  options: CommonOptions,
  keys: readonly string[],
  combine: (gradient: tf.Tensor, input: tf.Tensor) => tf.Tensor,
  overrides: readonly GradientOverride[] = [],
): Promise<tf.Tensor | tf.Tensor[]> {
  const call = await prepareCall(model, x, options, { keys, gradients: true });
  try {
    const attributions = await collectOverRows({
      ...call.plan,
      evaluator: overrides.length === 0 ? call.evaluator : withGradientOverrides(call.evaluator, overrides),
      total: call.numExamples,
      needs: 'gradients',
      points: (start, count) => exampleRows(call, start, count),
      terms: (rows, evaluation) => evaluation.gradients!.map((g, k) => combine(g, rows.inputs[k])),
    });
    return call.result(attributions);
  } finally {
    call.dispose();
  }
}
