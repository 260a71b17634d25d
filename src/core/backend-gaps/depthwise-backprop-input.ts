import * as tf from '@tensorflow/tfjs-core';
import { opKernel } from './op-kernel';
import { derivedFromConstants } from './scope-context';
import { spreadForInputGradient } from './strided-windows';

/**
 * The input gradient of a depthwise convolution (any strides, dilations and padding) computed with the
 * backend's forward depthwise convolution.
 *
 * The forward pass reads `x[n, o·s − p + k·d, c]` for output row `o`, filter tap `k < f`, stride `s`,
 * top padding `p` and dilation `d` (likewise for columns), so
 * `dx[n, h, c] = Σ_{k,m} dy↑[n, h + p − k·d, c·M + m] · w[k, c, m]`, where `dy↑` is dy with `s − 1`
 * zeros between rows (zero if out of range) and `M` the channel multiplier. With `k' = f − 1 − k` that
 * is a stride-1 correlation of `dy↑` padded by `(f − 1)·d − p` on top with the spatially flipped filter,
 * dilated by `d`: a depthwise convolution over the `C·M` channels of dy, summed over `m`. The flipped
 * filter of a constant (model weight) is computed once per call when the scope has a {@link KernelCache}.
 */
export function depthwiseInputGradient(dy: tf.Tensor4D, filter: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const [fh, fw, channels, multiplier] = filter.shape;
  const padded = spreadForInputGradient(dy, info);
  const flipped = derivedFromConstants('depthwise input gradient: flipped filter', [filter], (f) =>
    tf.reshape(tf.reverse(f, [0, 1]), [fh, fw, channels * multiplier, 1]),
  ) as tf.Tensor4D;
  const perProduct = tf.depthwiseConv2d(padded, flipped, 1, 'valid', 'NHWC', [info.dilationHeight, info.dilationWidth]);
  if (multiplier === 1) return perProduct;
  return tf.sum(tf.reshape(perProduct, [info.batchSize, info.inHeight, info.inWidth, channels, multiplier]), 4);
}

/** The geometry of a depthwise convolution with the given attributes. */
export function depthwiseInfo(
  inputShape: number[],
  filterShape: number[],
  attrs: tf.NamedAttrMap,
): tf.backend_util.Conv2DInfo {
  const { strides, dilations, pad, dimRoundingMode } = attrs as unknown as tf.DepthwiseConv2dNativeAttrs;
  return tf.backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    dilations ?? 1,
    pad,
    dimRoundingMode,
    true,
  );
}

/**
 * `DepthwiseConv2dNativeBackpropInput` for a backend that lacks it (tfjs-backend-wasm 4.22), computed
 * with {@link depthwiseInputGradient}.
 */
export function depthwiseBackpropInputKernel(backendName: string): tf.KernelConfig {
  return opKernel(tf.DepthwiseConv2dNativeBackpropInput, backendName, ({ dy, filter }, attrs) => {
    const { inputShape } = attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
    return depthwiseInputGradient(dy as tf.Tensor4D, filter as tf.Tensor4D, depthwiseInfo(inputShape, filter.shape, attrs));
  });
}
