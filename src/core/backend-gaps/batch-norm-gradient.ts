import * as tf from '@tensorflow/tfjs-core';
import type { GradientDefinition } from './gradient-overrides';
import { derivedFromConstants } from './scope-context';

/** Sums a gradient shaped like the broadcast result back onto an input of shape `shape`. */
function reducedTo(gradient: tf.Tensor, shape: number[]): tf.Tensor {
  const axes = tf.backend_util.getReductionAxes(shape, gradient.shape);
  return tf.reshape(axes.length > 0 ? tf.sum(gradient, axes) : gradient, shape);
}

/**
 * The gradient of `FusedBatchNorm` (`tf.batchNorm`, tfjs-layers `batchNormalization` at inference),
 * `y = (x − μ)·s·γ + β` with `s = 1/√(σ² + ε)`, every factor broadcast against `x`:
 * - `dx = dy · (γ·s)`: one product of `dy` with the per-channel factor, broadcast. tfjs 4.22 first tiles
 *   `s` to the full shape of `x` and also computes `x − μ` and `dy·γ` eagerly, whether or not the other
 *   inputs need a gradient; on tfjs-backend-wasm that `Tile` alone took half of a MobileNetV2 saliency;
 * - `dμ = Σ −dy·γ·s`, `dσ² = Σ −½·dy·γ·(x − μ)·s³`, `dγ = Σ dy·(x − μ)·s`, `dβ = Σ dy`, summed over the
 *   axes each input was broadcast along and computed only when asked for.
 * A missing scale counts as 1 (tfjs's own convention). The factor `γ·s` of a model's constant
 * parameters is computed once per call when the scope has a {@link KernelCache}.
 */
export const BATCH_NORM_GRADIENT: GradientDefinition = {
  inputsToSave: ['x', 'mean', 'variance', 'scale', 'offset'],
  gradFunc: (dy, saved, attrs) => {
    const [x, mean, variance, scale, offset] = saved as (tf.Tensor | undefined)[] as [
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
      tf.Tensor | undefined,
      tf.Tensor | undefined,
    ];
    const g = dy as tf.Tensor;
    const { varianceEpsilon } = attrs as unknown as tf.FusedBatchNormAttrs;
    const inverseStd = () => tf.rsqrt(tf.add(variance, varianceEpsilon));
    const scaled = (t: tf.Tensor) => (scale === undefined ? t : tf.mul(t, scale));
    const centred = () => tf.sub(x, mean);
    const gradients: Record<string, () => tf.Tensor> = {
      x: () => {
        const parameters = scale === undefined ? [variance] : [variance, scale];
        const factor = derivedFromConstants(`batch norm gradient: γ/√(σ² + ${varianceEpsilon})`, parameters, () =>
          scaled(inverseStd()),
        );
        return tf.mul(g, factor);
      },
      mean: () => reducedTo(tf.mul(g, tf.neg(scaled(inverseStd()))), mean.shape),
      variance: () => {
        const factor = tf.mul(scaled(tf.pow(inverseStd(), 3)), -0.5);
        return reducedTo(tf.mul(tf.mul(g, centred()), factor), variance.shape);
      },
    };
    if (scale !== undefined) gradients.scale = () => reducedTo(tf.mul(tf.mul(g, centred()), inverseStd()), scale.shape);
    if (offset !== undefined) gradients.offset = () => reducedTo(g, offset.shape);
    return gradients;
  },
};
