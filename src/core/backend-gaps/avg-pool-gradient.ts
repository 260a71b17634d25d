import * as tf from '@tensorflow/tfjs-core';
import type { GradientDefinition } from './gradient-overrides';

/**
 * How many real (not padded) input cells each window reads along one axis: window `o` starts at
 * `o·stride − before` and spans `filter` cells, of which those inside `[0, size)` count.
 */
function realCellsPerWindow(count: number, size: number, filter: number, stride: number, before: number): number[] {
  return Array.from({ length: count }, (_, o) => {
    const start = o * stride - before;
    return Math.max(Math.min(start + filter, size) - Math.max(start, 0), 0);
  });
}

/**
 * The exact gradient of `AvgPool` where windows reach into the padding (`padding: 'same'`).
 *
 * Every tfjs backend averages a window over its real cells only (TensorFlow's convention:
 * `y[o] = Σ_{i ∈ W(o)} x[i] / |W(o)|`, `W(o)` the window's cells inside the input), but tfjs's gradient
 * (`AvgPoolGrad`) divides by the full window area `fh·fw` everywhere, so windows at the border get too
 * little gradient (InceptionV3 saliency 17.6 % off). The exact gradient is
 * `dx[i] = Σ_{o : i ∈ W(o)} dy[o] / |W(o)|`, which is tfjs's own gradient applied to
 * `dy[o] · fh·fw / |W(o)|`. `|W(o)|` is the product of the real rows and real columns of the window, so
 * the factor is an outer product computed once per call; pools whose windows all lie inside the input
 * (`'valid'`) keep tfjs's gradient untouched.
 */
export function exactAvgPoolGradient(original: tf.GradConfig | undefined): GradientDefinition | undefined {
  if (original === undefined) return undefined;
  return {
    ...original,
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.AvgPoolAttrs;
      // The AvgPool kernel always gets 4-D input (tf.avgPool reshapes 3-D input first).
      const info = tf.backend_util.computePool2DInfo(x.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
      const rows = realCellsPerWindow(info.outHeight, info.inHeight, info.filterHeight, info.strideHeight, info.padInfo.top);
      const cols = realCellsPerWindow(info.outWidth, info.inWidth, info.filterWidth, info.strideWidth, info.padInfo.left);
      const area = info.filterHeight * info.filterWidth;
      if (rows.every((r) => r === info.filterHeight) && cols.every((c) => c === info.filterWidth)) {
        return original.gradFunc(dy, saved, attrs);
      }
      const factors = new Float32Array(rows.length * cols.length);
      rows.forEach((r, i) => cols.forEach((c, j) => (factors[i * cols.length + j] = r * c === 0 ? 0 : area / (r * c))));
      const scaled = tf.mul(dy as tf.Tensor, tf.tensor4d(factors, [1, rows.length, cols.length, 1]));
      return original.gradFunc(scaled, saved, attrs);
    },
  };
}
