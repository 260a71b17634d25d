import * as tf from '@tensorflow/tfjs-core';
import { opKernel } from './op-kernel';
import { depthwiseInputGradient } from './depthwise-backprop-input';
import { padSpatial } from './strided-windows';

/** The most negative finite float32: the padding value of the windows (see {@link windowPatchMaxPoolGrad}). */
const LOWEST_FLOAT32 = -3.4028234663852886e38;

/**
 * `MaxPoolGrad` computed with ordinary ops, replacing tfjs-backend-wasm 4.22's kernel, whose running
 * maximum starts at the smallest positive float: in a window whose values are all ≤ 0 it finds no
 * maximum and routes the gradient nowhere.
 *
 * Each output's gradient goes to the first position (row-major within the window, as tfjs's cpu
 * backend) holding the window's maximum. Pools whose windows tile the input (stride = window, no
 * padding; the usual 2×2 pooling) make the windows an axis by reshaping ({@link tiledMaxPoolGrad});
 * others read all window taps at once with a depthwise convolution ({@link windowPatchMaxPoolGrad}).
 */
export function maxPoolGradKernel(backendName: string): tf.KernelConfig {
  return opKernel(tf.MaxPoolGrad, backendName, ({ dy, input, output }, attrs) => {
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolGradAttrs;
    const x = input as tf.Tensor4D;
    const info = tf.backend_util.computePool2DInfo(x.shape, filterSize, strides, 1, pad, dimRoundingMode);
    const { top, left } = info.padInfo;
    const tiling =
      info.strideHeight === info.filterHeight &&
      info.strideWidth === info.filterWidth &&
      top === 0 &&
      left === 0 &&
      info.outHeight * info.filterHeight <= info.inHeight &&
      info.outWidth * info.filterWidth <= info.inWidth;
    if (tiling) return tiledMaxPoolGrad(dy as tf.Tensor4D, x, output as tf.Tensor4D, [info.filterHeight, info.filterWidth]);
    return windowPatchMaxPoolGrad(dy as tf.Tensor4D, x, output as tf.Tensor4D, info);
  });
}

/**
 * `MaxPoolGrad` of any pool through its window patches. With `K = fh·fw` taps and the one-hot
 * depthwise filter `E[k_r, k_c, c, m] = 1[m = k_r·fw + k_c]`, a stride-`s` depthwise convolution of the
 * padded input gives every tap at once, `T[n, o, p, c, m] = x[n, o·s + k_r − top, p·s + k_c − left, c]`
 * (one term times 1, the others times 0: exact for finite values). Then
 * `first = 1[T = y] · 1[cumsum_m 1[T = y] = 1]` marks each window's first maximum, and the input
 * gradient of that same depthwise convolution applied to `first · dy` scatters the gradient back, summing
 * where windows overlap. Padding is the lowest finite float32, never a window's maximum when the window
 * holds a finite value above it (infinite inputs are not supported: `0·∞` is not 0).
 */
function windowPatchMaxPoolGrad(
  dy: tf.Tensor4D,
  x: tf.Tensor4D,
  y: tf.Tensor4D,
  info: tf.backend_util.Conv2DInfo,
): tf.Tensor4D {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth } = info;
  const { top, left } = info.padInfo;
  const paddedHeight = Math.max(top + inHeight + info.padInfo.bottom, (outHeight - 1) * info.strideHeight + filterHeight);
  const paddedWidth = Math.max(left + inWidth + info.padInfo.right, (outWidth - 1) * info.strideWidth + filterWidth);
  const padded = padSpatial(
    x,
    { top, bottom: paddedHeight - top - inHeight, left, right: paddedWidth - left - inWidth },
    LOWEST_FLOAT32,
  );
  const taps = filterHeight * filterWidth;
  const oneHot = tf.cast(tf.oneHot(tf.range(0, taps, 1, 'int32'), taps), 'float32');
  const filter = tf.tile(tf.reshape(oneHot, [filterHeight, filterWidth, 1, taps]), [1, 1, inChannels, 1]) as tf.Tensor4D;
  const strides: [number, number] = [info.strideHeight, info.strideWidth];
  const patches = tf.reshape(tf.depthwiseConv2d(padded, filter, strides, 'valid'), [
    batchSize,
    outHeight,
    outWidth,
    inChannels,
    taps,
  ]);
  // 1[T = y] as 1 − step(|T − y|) (vectorised arithmetic; comparisons are slow on wasm), then the first
  // of each window: cumsum = 1 there, ≥ 2 after it.
  const isMax = tf.sub(1, tf.step(tf.abs(tf.sub(patches, tf.expandDims(y, 4)))));
  const first = tf.mul(isMax, tf.step(tf.sub(1.5, tf.cumsum(isMax, 4))));
  const routed = tf.reshape(tf.mul(first, tf.expandDims(dy, 4)), [batchSize, outHeight, outWidth, inChannels * taps]);
  const scatterInfo = tf.backend_util.computeConv2DInfo(
    [batchSize, paddedHeight, paddedWidth, inChannels],
    [filterHeight, filterWidth, inChannels, taps],
    strides,
    1,
    'valid',
    undefined,
    true,
  );
  const dx = depthwiseInputGradient(routed as tf.Tensor4D, filter, scatterInfo);
  return tf.slice(dx, [0, top, left, 0], x.shape);
}

/**
 * `MaxPoolGrad` of a pool whose `fh × fw` windows tile the input from the top-left corner (rows and
 * columns past the last window get no gradient): each window's gradient goes to its first maximum.
 */
function tiledMaxPoolGrad(dy: tf.Tensor4D, x: tf.Tensor4D, y: tf.Tensor4D, [fh, fw]: [number, number]): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const [, oh, ow] = y.shape;
  const covered = oh * fh === h && ow * fw === w ? x : tf.slice(x, 0, [n, oh * fh, ow * fw, c]);
  // [n, oh, ow, fh·fw, c]: the values of each window along axis 3, row-major.
  const windows = tf.reshape(tf.transpose(tf.reshape(covered, [n, oh, fh, ow, fw, c]), [0, 1, 3, 2, 4, 5]), [n, oh, ow, fh * fw, c]);
  // x − y = 0 exactly when x = y (finite values); wasm's broadcasting Equal is 15× slower than Sub.
  const isMax = tf.cast(tf.equal(tf.sub(windows, tf.reshape(y, [n, oh, ow, 1, c])), 0), 'float32');
  const first = tf.mul(isMax, tf.cast(tf.equal(tf.cumsum(isMax, 3), 1), 'float32'));
  const routed = tf.mul(first, tf.reshape(dy, [n, oh, ow, 1, c]));
  const back = tf.reshape(tf.transpose(tf.reshape(routed, [n, oh, ow, fh, fw, c]), [0, 1, 3, 2, 4, 5]), [n, oh * fh, ow * fw, c]);
  return (covered === x ? back : tf.pad(back, [[0, 0], [0, h - oh * fh], [0, w - ow * fw], [0, 0]])) as tf.Tensor4D;
}
