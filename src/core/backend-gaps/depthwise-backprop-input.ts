import * as tf from '@tensorflow/tfjs-core';
import { opKernel } from './op-kernel';
import { spreadForInputGradient } from './strided-windows';

/**
 * `DepthwiseConv2dNativeBackpropInput` (the input gradient of a depthwise convolution) for a backend
 * that lacks it (tfjs-backend-wasm 4.22), computed with the backend's forward depthwise convolution.
 *
 * The forward pass reads `x[n, o·s − p + k·d, c]` for output row `o`, filter tap `k < f`, stride `s`,
 * top padding `p` and dilation `d` (likewise for columns), so
 * `dx[n, h, c] = Σ_{k,m} dy↑[n, h + p − k·d, c·M + m] · w[k, c, m]`, where `dy↑` is dy with `s − 1`
 * zeros between rows (zero if out of range) and `M` the channel multiplier. With `k' = f − 1 − k` that
 * is a stride-1 correlation of `dy↑` padded by `(f − 1)·d − p` on top with the spatially flipped filter,
 * dilated by `d`: a depthwise convolution over the `C·M` channels of dy, summed over `m`.
 */
export function depthwiseBackpropInputKernel(backendName: string): tf.KernelConfig {
  return opKernel(tf.DepthwiseConv2dNativeBackpropInput, backendName, ({ dy, filter }, attrs) => {
    const { strides, dilations, pad, dimRoundingMode, inputShape } =
      attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
    const [fh, fw, channels, multiplier] = filter.shape;
    const info = tf.backend_util.computeConv2DInfo(
      inputShape,
      [fh, fw, channels, multiplier],
      strides,
      dilations,
      pad,
      dimRoundingMode,
      true,
    );
    const padded = spreadForInputGradient(dy as tf.Tensor4D, info);
    const flipped = tf.reshape(tf.reverse(filter, [0, 1]), [fh, fw, channels * multiplier, 1]) as tf.Tensor4D;
    const perProduct = tf.depthwiseConv2d(padded, flipped, 1, 'valid', 'NHWC', [
      info.dilationHeight,
      info.dilationWidth,
    ]);
    if (multiplier === 1) return perProduct;
    return tf.sum(tf.reshape(perProduct, [info.batchSize, info.inHeight, info.inWidth, channels, multiplier]), 4);
  });
}
