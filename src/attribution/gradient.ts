/**
 * Plain gradient attributions.
 *
 * - Saliency (Simonyan et al. 2014): `|∂f_c/∂x|` (Captum's default `abs: true`).
 * - Gradient × Input (Shrikumar et al. 2016): `x ⊙ ∂f_c/∂x`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { accumulateOverPoints } from '../core/accumulate';
import type { ModelLike } from '../core/model';
import type { CommonOptions } from '../core/options';
import { exampleRange, prepareCall } from '../core/prepare';

/** Options of {@link saliency}. */
export interface SaliencyOptions extends CommonOptions {
  /** Return `|∂f_c/∂x|` (default, as Captum) or the signed gradient. */
  abs?: boolean;
}

/**
 * Saliency map `|∂f_c/∂x|` (Simonyan, Vedaldi, Zisserman 2014), one per example, shaped like `x`.
 * @example
 * const map = await saliency(model, images, { target: 3 });
 */
export async function saliency(model: ModelLike, x: tf.Tensor, options: SaliencyOptions = {}): Promise<tf.Tensor> {
  const abs = options.abs ?? true;
  return inputGradientAttribution(model, x, options, (gradients) => (abs ? tf.abs(gradients) : gradients));
}

/** Gradient × Input `x ⊙ ∂f_c/∂x` (Shrikumar et al. 2016), shaped like `x`. */
export async function gradientXInput(model: ModelLike, x: tf.Tensor, options: CommonOptions = {}): Promise<tf.Tensor> {
  return inputGradientAttribution(model, x, options, (gradients, inputs) => tf.mul(gradients, inputs));
}

/** One gradient per example, mapped by `combine(gradient, input)`, in chunks of `batchSize`. */
async function inputGradientAttribution(
  model: ModelLike,
  x: tf.Tensor,
  options: CommonOptions,
  combine: (gradients: tf.Tensor, inputs: tf.Tensor) => tf.Tensor,
): Promise<tf.Tensor> {
  const call = await prepareCall(model, x, options);
  try {
    const [attribution] = await accumulateOverPoints({
      ...call.plan,
      forward: call.forward,
      target: call.target,
      numExamples: call.numExamples,
      total: call.numExamples,
      needs: 'gradients',
      points: (start, count) => ({ inputs: tf.slice(call.input, start, count), examples: exampleRange(start, count) }),
      terms: (rows, evaluation) => [combine(evaluation.gradients!, rows.inputs)],
    });
    return attribution;
  } finally {
    call.dispose();
  }
}
