/**
 * Average total variation (ATV) of a heatmap, the smoothness score of the SmoothTaylor paper (Goh et al.
 * 2020): the heatmap `h = Σ_channels |A|` is scaled to [0, 1] by its 99th percentile (and clipped), its
 * total variation `(Σ|Δ_x h| + Σ|Δ_y h|) / (H·W)` is averaged over a Gaussian pyramid (downscale 1.5,
 * Gaussian σ = 2·downscale/6 before resizing, down to `minSize` pixels). Lower is smoother.
 */
import * as tf from '@tensorflow/tfjs-core';
import { GlassboxArgumentError } from '../core/errors';
import { assertBatchedTensor, assertNumberInRange, assertInteger } from '../core/validate';

/** Options of {@link totalVariation}. */
export interface TotalVariationOptions {
  /** Factor between pyramid levels (default 1.5). */
  downscale?: number;
  /** Smallest height/width of a pyramid level (default 30). */
  minSize?: number;
}

/**
 * ATV per example for attributions `[N, H, W]` or `[N, H, W, C]`; returns `[N]` (caller disposes).
 * @example
 * const atv = totalVariation(await saliency(model, x, { target: 0 })); // lower = smoother heatmap
 */
export function totalVariation(attribution: tf.Tensor, options: TotalVariationOptions = {}): tf.Tensor1D {
  assertBatchedTensor(attribution, 'attribution', 3);
  if (attribution.rank > 4) {
    throw new GlassboxArgumentError('attribution', `expected [N, H, W] or [N, H, W, C], got shape [${attribution.shape.join(', ')}]`);
  }
  const downscale = options.downscale ?? 1.5;
  assertNumberInRange(downscale, 'options.downscale', { min: 1, minExclusive: true });
  const minSize = options.minSize ?? 30;
  assertInteger(minSize, 'options.minSize', 2);
  return tf.tidy(() => {
    const abs = tf.abs(tf.cast(attribution, 'float32'));
    let level = attribution.rank === 4 ? tf.sum(abs, 3, true) : tf.expandDims(abs, 3);
    level = scaleByPercentile(level, 0.99);
    const kernel = gaussianKernel((2 * downscale) / 6);
    const scores: tf.Tensor[] = [];
    for (;;) {
      scores.push(totalVariationOf(level));
      const [height, width] = [level.shape[1]!, level.shape[2]!];
      const next = [Math.ceil(height / downscale), Math.ceil(width / downscale)] as [number, number];
      if (Math.min(...next) < minSize) break;
      level = tf.image.resizeBilinear(blur(level as tf.Tensor4D, kernel), next, true);
    }
    return tf.mean(tf.stack(scores), 0) as tf.Tensor1D;
  });
}

/** `(Σ|Δ_y h| + Σ|Δ_x h|) / (H·W)` per example for `h: [N, H, W, 1]`. */
function totalVariationOf(h: tf.Tensor): tf.Tensor {
  const [n, height, width] = [h.shape[0]!, h.shape[1]!, h.shape[2]!];
  const dy = height > 1 ? tf.sum(tf.abs(tf.sub(tf.slice(h, [0, 1, 0, 0], [n, height - 1, width, 1]), tf.slice(h, [0, 0, 0, 0], [n, height - 1, width, 1]))), [1, 2, 3]) : tf.zeros([n]);
  const dx = width > 1 ? tf.sum(tf.abs(tf.sub(tf.slice(h, [0, 0, 1, 0], [n, height, width - 1, 1]), tf.slice(h, [0, 0, 0, 0], [n, height, width - 1, 1]))), [1, 2, 3]) : tf.zeros([n]);
  return tf.div(tf.add(dy, dx), height * width);
}

/** Divides each example by its `q`-quantile (largest values) and clips to [0, 1]; all-zero maps stay 0. */
function scaleByPercentile(h: tf.Tensor, q: number): tf.Tensor {
  const n = h.shape[0];
  const flat = tf.reshape(h, [n, -1]);
  const size = flat.shape[1]!;
  const k = Math.max(1, Math.ceil((1 - q) * size));
  const { values } = tf.topk(flat, k);
  const threshold = tf.reshape(tf.slice(values, [0, k - 1], [n, 1]), [n, 1, 1, 1]);
  const safe = tf.where(tf.greater(threshold, 0), threshold, tf.onesLike(threshold));
  return tf.clipByValue(tf.div(h, safe), 0, 1);
}

/** Gaussian blur with reflected borders (as scikit-image's pyramid). */
function blur(h: tf.Tensor4D, kernel: tf.Tensor4D): tf.Tensor4D {
  const radius = (kernel.shape[0] - 1) / 2;
  const padded = tf.mirrorPad(h, [[0, 0], [radius, radius], [radius, radius], [0, 0]], 'reflect');
  return tf.conv2d(padded, kernel, 1, 'valid');
}

/** Normalised 2-D Gaussian `[k, k, 1, 1]` truncated at 4σ. */
function gaussianKernel(sigma: number): tf.Tensor4D {
  const radius = Math.max(1, Math.ceil(4 * sigma));
  const size = 2 * radius + 1;
  const values = new Float32Array(size * size);
  let total = 0;
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      const v = Math.exp(-((i - radius) ** 2 + (j - radius) ** 2) / (2 * sigma * sigma));
      values[i * size + j] = v;
      total += v;
    }
  }
  return tf.tensor4d(values.map((v) => v / total), [size, size, 1, 1]);
}
