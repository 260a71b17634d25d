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

/**
 * The input gradient of a strided NHWC convolution (dilation 1) as one stride-1 convolution of `dy`
 * whose output channels are the `sh·sw` phases of the input grid, interleaved afterwards (the sub-pixel
 * decomposition of a transposed convolution, Shi et al. 2016). Input row `h` with `h + p = m·s + φ`
 * (`p` the top padding) is read by the taps `k = φ + j·s` from output row `m − j`, so
 * `dx[m·s + φ − p] = Σ_j dy[m − j]·w[φ + j·s]`, `j < J = ⌈f/s⌉` (taps past the filter are 0): a 'valid'
 * correlation of `dy`, padded by `J − 1` on top, with the flipped `J×J` sub-filter of phase `φ`. Unlike
 * spreading `dy` with zeros (see {@link conv2dInputGradient}), no product with an inserted zero is
 * taken: `f²/J²`× fewer multiplications (2.25× for 3×3 filters at stride 2), and the
 * `s²`-fold output channels suit wasm's XNNPACK, which is slow on the 3 channels of an image (the first
 * layer's input gradient: 13 against 29 ms on 224² images). The phases are interleaved by a reshape and
 * a transpose of rank 4 (wasm's `DepthToSpace` is 20× slower) and cropped to the input grid.
 */
function stridedInputGradient(dy: tf.Tensor4D, filter: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, strideHeight: sh, strideWidth: sw } = info;
  const { filterHeight: fh, filterWidth: fw, outChannels } = info;
  const { top, left } = info.padInfo;
  const [jh, jw] = [Math.ceil(fh / sh), Math.ceil(fw / sw)];
  // Phase filter [J, J, out, sh·sw·in]: tap (j', i') of phase (φh, φw) is w[φh + (jh − 1 − j')·sh, φw + (jw − 1 − i')·sw].
  const phaseFilter = derivedFromConstants('conv2d input gradient: phase filters', [filter], (f) => {
    const extended = tf.pad(f, [[0, jh * sh - fh], [0, jw * sw - fw], [0, 0], [0, 0]]);
    const taps = tf.reverse(tf.reshape(extended, [jh, sh, jw, sw, inChannels, outChannels]), [0, 2]);
    return tf.reshape(tf.transpose(taps, [0, 2, 5, 1, 3, 4]), [jh, jw, outChannels, sh * sw * inChannels]);
  }) as tf.Tensor4D;
  // m covers every input row: m·s + φ − p < inHeight for all phases.
  const rows = Math.max(Math.ceil((inHeight + top) / sh), outHeight);
  const cols = Math.max(Math.ceil((inWidth + left) / sw), outWidth);
  const padded = tf.pad(dy, [[0, 0], [jh - 1, rows - outHeight], [jw - 1, cols - outWidth], [0, 0]]);
  const phases = tf.conv2d(padded, phaseFilter, 1, 'valid');
  // [n·rows, cols, sh, sw·in] → [n·rows, sh, cols, sw·in]: row m·sh + φh, column m'·sw + φw.
  const interleaved = tf.transpose(tf.reshape(phases, [batchSize * rows, cols, sh, sw * inChannels]), [0, 2, 1, 3]);
  const grid = tf.reshape(interleaved, [batchSize, rows * sh, cols * sw * inChannels]);
  // A slice of rank 3 (rows, columns × channels): wasm's rank-4 slice is 3× slower on 3 channels.
  const cropped = top === 0 && left === 0 && rows * sh === inHeight && cols * sw === inWidth ? grid : tf.slice(grid, [0, top, left * inChannels], [batchSize, inHeight, inWidth * inChannels]);
  return tf.reshape(cropped, [batchSize, inHeight, inWidth, inChannels]);
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
 * phase decomposition for strided ones, the forward convolution of the flipped filter otherwise.
 * tfjs-backend-wasm 4.22's own kernel is 10–40× slower than its XNNPACK forward convolution and matrix
 * product on the same sizes (tfjs-backend-cpu's own kernel is as fast as either, so cpu keeps it).
 */
export function conv2dBackpropInputKernel(backendName: string): tf.KernelConfig {
  return opKernel(tf.Conv2DBackpropInput, backendName, ({ dy, filter }, attrs) => {
    const info = conv2dBackpropInputInfo(filter.shape, attrs);
    if (isPointwise(info)) return pointwiseInputGradient(dy as tf.Tensor4D, filter as tf.Tensor4D, info);
    const strided = info.strideHeight > 1 || info.strideWidth > 1;
    return strided ? stridedInputGradient(dy as tf.Tensor4D, filter as tf.Tensor4D, info) : conv2dInputGradient(dy as tf.Tensor4D, filter as tf.Tensor4D, info);
  });
}
