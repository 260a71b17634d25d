/**
 * Transposes of the linear operations of LRP programs: `(∂f(x; W)/∂x)ᵀ dy` for `z = f(x; W) + b`,
 * computed directly (a transposed convolution, a matrix product with `Wᵀ`) instead of through a taped
 * forward pass. Every rule branch of a linear layer takes one such vector–Jacobian product; it does not
 * depend on `x`, so the forward convolution that `tf.grads` would run first is saved. Inside the
 * backend-gap scope these ops run the fast kernels of `src/core/backend-gaps` (the transposed filter of
 * a constant computed once per call).
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { conv2dInputGradient } from '../../core/backend-gaps/conv2d-backprop-input';
import { depthwiseInfo, depthwiseInputGradient } from '../../core/backend-gaps/depthwise-backprop-input';
import { derivedFromConstants } from '../../core/backend-gaps/scope-context';
import type { LinearTranspose } from './layer-catalogue';

/** Convolution padding as tfjs ops take it. */
export type ConvPadding = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];

type Shape4D = [number, number, number, number];

/**
 * The transpose of an NHWC `conv2d` with filter `[fh, fw, in, out]`: `conv2dTranspose` (the backend's
 * `Conv2DBackpropInput`), or for dilated filters the forward convolution of `dy` with the flipped,
 * dilated filter.
 */
export function transposeOfConv2d(strides: [number, number], padding: ConvPadding, dilations: [number, number]): LinearTranspose {
  return (dy, { weight }, inputShape) => {
    const shape = inputShape as Shape4D;
    if (dilations[0] === 1 && dilations[1] === 1) {
      return tf.conv2dTranspose(dy as tf.Tensor4D, weight as tf.Tensor4D, shape, strides, padding);
    }
    const info = tf.backend_util.computeConv2DInfo(shape, weight.shape as Shape4D, strides, dilations, padding);
    return conv2dInputGradient(dy as tf.Tensor4D, weight as tf.Tensor4D, info);
  };
}

/**
 * The transpose of an NHWC depthwise convolution with filter `[fh, fw, channels, multiplier]`: the
 * backend's `DepthwiseConv2dNativeBackpropInput` where it has one (cpu, webgl: on cpu twice as fast as
 * the route below, whose padding is slow there), else (wasm, dilated filters) the forward depthwise
 * convolution of `dy` (spread by the strides, padded) with the flipped filter.
 */
export function transposeOfDepthwise(strides: [number, number], padding: ConvPadding, dilations: [number, number]): LinearTranspose {
  const dilated = dilations[0] !== 1 || dilations[1] !== 1;
  return (dy, { weight }, inputShape) => {
    if (!dilated && tf.getKernel(tf.DepthwiseConv2dNativeBackpropInput, tf.getBackend()) !== undefined) {
      const attrs: tf.DepthwiseConv2dNativeBackpropInputAttrs = { strides, pad: padding, dilations, inputShape: [...inputShape] as Shape4D };
      return tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropInput, { dy, filter: weight }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
    }
    return depthwiseInputGradient(dy as tf.Tensor4D, weight as tf.Tensor4D, depthwiseInfo([...inputShape], weight.shape, { strides, dilations, pad: padding }));
  };
}

/**
 * The transpose of `x · W` over the last axis of `x` (`W` is `[inputs, units]`, or `[units, inputs]`
 * when `transposed`): `dy · Wᵀ`, with `Wᵀ` laid out explicitly (a product with a transposed right-hand
 * side is 10–30× slower on wasm) and, for a constant, computed once per call.
 */
export function transposeOfDense(transposed = false): LinearTranspose {
  return (dy, { weight }, inputShape) => {
    const right = transposed ? weight : derivedFromConstants('dense transpose: transposed weight', [weight], (w) => tf.transpose(w));
    const [units, inputs] = right.shape;
    if (dy.rank === 2) return tf.matMul(dy as tf.Tensor2D, right as tf.Tensor2D);
    const product = tf.matMul(tf.reshape(dy, [-1, units]) as tf.Tensor2D, right as tf.Tensor2D);
    return tf.reshape(product, [...inputShape.slice(0, -1), inputs]);
  };
}
