import * as tf from '@tensorflow/tfjs-core';
import { opKernel } from './op-kernel';
import { derivedFromConstants } from './scope-context';
import { placeWindowTap, spreadForInputGradient } from './strided-windows';

/**
 * The input gradient of an NHWC convolution (any strides, dilations and padding) computed with the
 * backend's forward convolution.
 *
 * The forward pass reads `x[n, o·s − p + k·d, i]` for output row `o`, filter tap `k < f`, stride `s`,
 * dilation `d` and top padding `p` (likewise for columns), so
 * `dx[n, h, i] = Σ_{k,o} dy↑[n, h + p − k·d, o] · w[k, i, o]`, where `dy↑` is dy with `s − 1` zeros
 * between rows (zero out of range). With `k' = f − 1 − k` that is a stride-1 'valid' convolution of
 * `dy↑`, padded by `(f − 1)·d − p` on top, with the spatially flipped filter whose input and output
 * channels are swapped, dilated by `d`. The flipped filter of a constant (model weight) is computed once
 * per call when the scope has a {@link KernelCache}.
 */
export function conv2dInputGradient(dy: tf.Tensor4D, filter: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const padded = spreadForInputGradient(dy, info);
  const flipped = derivedFromConstants('conv2d input gradient: flipped filter', [filter], (f) =>
    tf.transpose(tf.reverse(f, [0, 1]), [0, 1, 3, 2]),
  ) as tf.Tensor4D;
  return tf.conv2d(padded, flipped, 1, 'valid', 'NHWC', [info.dilationHeight, info.dilationWidth]);
}

/** Whether a convolution is pointwise: a 1×1 filter and no padding (1×1 'same' and 'valid' pad nothing). */
function isPointwise(info: tf.backend_util.Conv2DInfo): boolean {
  const { top, bottom, left, right } = info.padInfo;
  return info.filterHeight === 1 && info.filterWidth === 1 && top === 0 && bottom === 0 && left === 0 && right === 0;
}

/**
 * The input gradient of a pointwise (1×1, unpadded) NHWC convolution as one matrix product: the forward
 * pass is `y[n, r, c, :] = x[n, r·sh, c·sw, :] · W` with `W = w[0, 0]` (`[in, out]`), so the gradient at
 * the positions read is `dy · Wᵀ` (`[positions, out] × [out, in]`) and zero at the rows and columns a
 * stride skips. `Wᵀ` is laid out explicitly (and, for a constant, cached): tfjs-backend-wasm 4.22 runs a
 * product with an untransposed right-hand side on XNNPACK and keeps its prepared operator per buffer, but
 * falls back to a plain loop, 10–30× slower, when asked to transpose it.
 */
function pointwiseInputGradient(dy: tf.Tensor4D, filter: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const { batchSize, outHeight, outWidth, inChannels, outChannels } = info;
  const transposed = derivedFromConstants('pointwise input gradient: transposed filter', [filter], (f) =>
    tf.transpose(tf.reshape(f, [inChannels, outChannels])),
  );
  const product = tf.matMul(tf.reshape(dy, [batchSize * outHeight * outWidth, outChannels]), transposed);
  const atOutputs = tf.reshape(product, [batchSize, outHeight, outWidth, inChannels]) as tf.Tensor4D;
  if (info.strideHeight === 1 && info.strideWidth === 1 && outHeight === info.inHeight && outWidth === info.inWidth) {
    return atOutputs;
  }
  return placeWindowTap(atOutputs, 0, 0, [info.inHeight, info.inWidth], [info.strideHeight, info.strideWidth]);
}

/** The geometry of a `Conv2DBackpropInput` call (NHWC). */
function conv2dBackpropInputInfo(filterShape: number[], attrs: tf.NamedAttrMap): tf.backend_util.Conv2DInfo {
  const { strides, pad, dimRoundingMode, inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  return tf.backend_util.computeConv2DInfo(
    inputShape,
    filterShape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
  );
}

/**
 * `Conv2DBackpropInput` (NHWC) as ordinary ops: one matrix product for pointwise convolutions, the
 * forward convolution of the flipped filter otherwise. tfjs-backend-wasm 4.22's own kernel is 10–40×
 * slower than its XNNPACK forward convolution and matrix product on the same sizes (tfjs-backend-cpu's
 * own kernel is as fast as either, so cpu keeps it).
 */
export function conv2dBackpropInputKernel(backendName: string): tf.KernelConfig {
  return opKernel(tf.Conv2DBackpropInput, backendName, ({ dy, filter }, attrs) => {
    const info = conv2dBackpropInputInfo(filter.shape, attrs);
    return isPointwise(info)
      ? pointwiseInputGradient(dy as tf.Tensor4D, filter as tf.Tensor4D, info)
      : conv2dInputGradient(dy as tf.Tensor4D, filter as tf.Tensor4D, info);
  });
}
