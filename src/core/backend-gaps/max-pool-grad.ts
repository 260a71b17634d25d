import * as tf from '@tensorflow/tfjs-core';
import { opKernel } from './op-kernel';
import { padSpatial, placeWindowTap, windowTap } from './strided-windows';

/**
 * `MaxPoolGrad` computed with ordinary ops, replacing tfjs-backend-wasm 4.22's kernel, whose running
 * maximum starts at the smallest positive float: in a window whose values are all ≤ 0 it finds no
 * maximum and routes the gradient nowhere.
 *
 * Each output's gradient goes to the first position (row-major within the window, as tfjs's cpu
 * backend) holding the window's maximum: for every filter tap `k`, `first_k = (x_k = y) ∧ ¬(x_j = y for
 * some j < k)`, and `dx = Σ_k place_k(first_k · dy)`, where `x_k` is the input seen by tap `k` at every
 * output position (input padded with −∞) and `place_k` scatters back onto the input grid. Pools whose
 * windows tile the input (stride = window, no padding; the usual 2×2 pooling) take a shorter path:
 * the windows become an axis, and `first = isMax ∧ (cumsum(isMax) = 1)` along it.
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
    const paddedHeight = Math.max(
      top + info.inHeight + info.padInfo.bottom,
      (info.outHeight - 1) * info.strideHeight + info.filterHeight,
    );
    const paddedWidth = Math.max(
      left + info.inWidth + info.padInfo.right,
      (info.outWidth - 1) * info.strideWidth + info.filterWidth,
    );
    const padded = padSpatial(
      x,
      { top, bottom: paddedHeight - top - info.inHeight, left, right: paddedWidth - left - info.inWidth },
      -Infinity,
    );
    const stride: [number, number] = [info.strideHeight, info.strideWidth];
    const zero = tf.zerosLike(dy);
    let claimed: tf.Tensor = tf.zeros(output.shape, 'bool');
    let dx: tf.Tensor = tf.zeros([info.batchSize, paddedHeight, paddedWidth, info.inChannels]);
    for (let row = 0; row < info.filterHeight; row++) {
      for (let col = 0; col < info.filterWidth; col++) {
        const isMax = tf.equal(windowTap(padded, row, col, info.outHeight, info.outWidth, stride), output);
        const first = tf.logicalAnd(isMax, tf.logicalNot(claimed));
        claimed = tf.logicalOr(claimed, isMax);
        const routed = tf.where(first, dy, zero) as tf.Tensor4D;
        const placed = placeWindowTap(routed, row, col, [paddedHeight, paddedWidth], stride);
        dx = tf.add(dx, placed);
      }
    }
    return tf.slice(dx, [0, top, left, 0], x.shape);
  });
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
