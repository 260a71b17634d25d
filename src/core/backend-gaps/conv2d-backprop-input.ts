import * as tf from '@tensorflow/tfjs-core';
import { opKernel } from './op-kernel';
import { spreadForInputGradient } from './strided-windows';

/**
 * `Conv2DBackpropInput` (the input gradient of a convolution) computed with the backend's forward
 * convolution, for tfjs-backend-wasm 4.22, whose own kernel is about 10× slower than its forward
 * `Conv2D` (XNNPACK) on the same sizes.
 *
 * The forward pass reads `x[n, o·s − p + k, i]` for output row `o`, filter tap `k < f`, stride `s` and
 * top padding `p` (likewise for columns), so `dx[n, h, i] = Σ_{k,o} dy↑[n, h + p − k, o] · w[k, i, o]`,
 * where `dy↑` is dy with `s − 1` zeros between rows (zero out of range). With `k' = f − 1 − k` that is a
 * stride-1 'valid' convolution of `dy↑`, padded by `f − 1 − p` on top, with the spatially flipped filter
 * whose input and output channels are swapped. NHWC only (tfjs-layers' layout); other data formats keep
 * the backend's kernel.
 */
export function conv2dBackpropInputKernel(backendName: string): tf.KernelConfig {
  return opKernel(tf.Conv2DBackpropInput, backendName, ({ dy, filter }, attrs) => {
    const { strides, pad, dimRoundingMode, inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
    const filterShape = filter.shape as [number, number, number, number];
    const info = tf.backend_util.computeConv2DInfo(inputShape, filterShape, strides, 1, pad, dimRoundingMode);
    const padded = spreadForInputGradient(dy as tf.Tensor4D, info);
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    return tf.conv2d(padded, flipped, 1, 'valid');
  });
}
