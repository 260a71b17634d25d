/**
 * Alpha blending of a heatmap over the image it explains (Captum's `'blended_heat_map'`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeValue, GlassboxArgumentError } from '../core/errors';
import { assertNumberInRange } from '../core/validate';

/** Options of {@link overlay}. */
export interface OverlayOptions {
  /** Weight α of the heatmap, in [0, 1] (default 0.5). */
  alpha?: number;
  /** Show the image in grey (the mean of its channels, as Captum) under the heatmap (default false). */
  grayscale?: boolean;
}

/**
 * Blends `heatmapRgb: [N, H, W, 3]` over `image: [N, H, W, 1 | 3]` (both in [0, 1]; a batch of 1 on
 * either side is broadcast): `out = clip((1 − α)·image + α·heatmap, 0, 1)`, float32 `[N, H, W, 3]`
 * (caller disposes). A one-channel image is repeated over R, G, B.
 * @example
 * const blended = overlay(x, heatmap(await saliency(model, x, { target: 0 })), { alpha: 0.6 });
 */
export function overlay(image: tf.Tensor, heatmapRgb: tf.Tensor, options: OverlayOptions = {}): tf.Tensor4D {
  assertImage(image, 'image', [1, 3]);
  assertImage(heatmapRgb, 'heatmapRgb', [3]);
  const [imageBatch, height, width] = image.shape;
  const [heatBatch, heatHeight, heatWidth] = heatmapRgb.shape;
  if (height !== heatHeight || width !== heatWidth) {
    throw new GlassboxArgumentError(
      'heatmapRgb',
      `expected the image's height and width ${height}×${width}, got ${heatHeight}×${heatWidth}; resize the ` +
        'attribution first (tf.image.resizeBilinear) and colour it again',
    );
  }
  if (imageBatch !== heatBatch && imageBatch !== 1 && heatBatch !== 1) {
    throw new GlassboxArgumentError(
      'heatmapRgb',
      `expected a batch of ${imageBatch} (like the image) or 1, got ${heatBatch}`,
    );
  }
  const alpha = options.alpha ?? 0.5;
  assertNumberInRange(alpha, 'options.alpha', { min: 0, max: 1 });
  const grayscale = options.grayscale ?? false;
  if (typeof grayscale !== 'boolean') {
    throw new GlassboxArgumentError('options.grayscale', `expected a boolean, got ${describeValue(grayscale)}`);
  }
  return tf.tidy(() => {
    const base = tf.cast(image, 'float32');
    const shown = grayscale || image.shape[3] === 1 ? tf.mean(base, 3, true) : base;
    const blended = tf.add(tf.mul(shown, 1 - alpha), tf.mul(tf.cast(heatmapRgb, 'float32'), alpha));
    return tf.clipByValue(blended, 0, 1) as tf.Tensor4D;
  });
}

function assertImage(value: unknown, argument: string, channels: number[]): asserts value is tf.Tensor4D {
  if (!(value instanceof tf.Tensor) || value.isDisposed) {
    throw new GlassboxArgumentError(argument, `expected a live tf.Tensor, got ${describeValue(value)}`);
  }
  if (value.rank !== 4 || !channels.includes(value.shape[3]!) || value.size === 0) {
    throw new GlassboxArgumentError(
      argument,
      `expected a non-empty [N, H, W, ${channels.join(' or ')}] tensor, got shape [${value.shape.join(', ')}]`,
    );
  }
}
