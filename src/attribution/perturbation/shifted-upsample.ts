/**
 * Soft, randomly shifted masks: a low-resolution mask is bilinearly upsampled to a larger size and a
 * window of the output size is cropped out of it at a given offset (RISE's and MFPP's mask recipe).
 */
import * as tf from '@tensorflow/tfjs-core';

/** Where each mask's output window lies in its upsampled version. */
export interface ShiftedUpsample {
  /** Size `[U_h, U_w]` the sources are upsampled to. */
  upsampled: [number, number];
  /** Size `[H, W]` of the cropped output. */
  output: [number, number];
  /** Per mask, the window's top-left corner `[dy, dx]` in the upsampled image. */
  offsets: [number, number][];
}

/**
 * Upsamples each source mask `[count, h, w, 1]` bilinearly to `upsampled` (half-pixel centres, edges
 * clamped: OpenCV's, PIL's and `tf.image.resizeBilinear(…, false, true)`'s convention) and crops the
 * `output` window at its offset, giving `[count, H, W, 1]`.
 *
 * The upsampled image is never materialised: upsampling then cropping is one affine resampling, done
 * by `tf.image.cropAndResize` on the source with one box per mask. Output pixel `y` reads the source at
 * `(y + dy + ½) · h / U_h − ½`, which lies in `[−½, h − ½]`; the source is padded by one replicated
 * pixel on each side so that these reads equal edge clamping.
 */
export function shiftedUpsample(sources: tf.Tensor4D, plan: ShiftedUpsample): tf.Tensor4D {
  return tf.tidy(() => {
    const [count, h, w] = sources.shape;
    const padded = tf.mirrorPad(sources, [[0, 0], [1, 1], [1, 1], [0, 0]], 'symmetric');
    const [height, width] = plan.output;
    const [upHeight, upWidth] = plan.upsampled;
    const boxes = new Float32Array(count * 4);
    for (let i = 0; i < count; i++) {
      const [dy, dx] = plan.offsets[i];
      const [y1, y2] = boxEdges(dy, height, h, upHeight);
      const [x1, x2] = boxEdges(dx, width, w, upWidth);
      boxes.set([y1, x1, y2, x2], i * 4);
    }
    const boxIndices = Int32Array.from({ length: count }, (_, i) => i);
    return tf.image.cropAndResize(
      padded,
      tf.tensor2d(boxes, [count, 4]),
      tf.tensor1d(boxIndices, 'int32'),
      [height, width],
      'bilinear',
    );
  });
}

/**
 * Normalised box edges along one axis: `cropAndResize` samples output `i` of `n` at
 * `e₁ (P − 1) + i (e₂ − e₁)(P − 1)/(n − 1)` in a padded source of `P = size + 2` pixels, and we want
 * `(i + offset + ½) · size / up − ½ + 1` (the `+ 1` is the padding).
 */
function boxEdges(offset: number, n: number, size: number, up: number): [number, number] {
  const span = size + 1;
  const first = ((offset + 0.5) * size) / up + 0.5;
  const last = ((offset + n - 1 + 0.5) * size) / up + 0.5;
  return [first / span, (n === 1 ? first : last) / span];
}
