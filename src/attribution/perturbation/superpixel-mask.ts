/**
 * Superpixels as feature groups: the natural `featureMask` of an image for the perturbation methods
 * (feature ablation, Shapley value sampling, KernelSHAP, LIME), where single pixels are too many and too
 * weak to be features of their own.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeValue, GlassboxArgumentError } from '../../core/errors';
import type { Superpixels } from './superpixels';

/**
 * A feature mask from {@link slic} segmentations: `[1, H, W, 1]` int32 ids for one segmentation (it
 * groups the channels of each pixel and applies to every example), or `[N, H, W, 1]` for one
 * segmentation per example of an `[N, H, W, C]` batch. The caller disposes it.
 * @example
 * const segments = await slic(tf.squeeze(image, [0]), { segments: 40 });
 * const phi = await kernelShap(model, image, { target: 3, featureMask: superpixelMask(segments), seed: 1 });
 */
export function superpixelMask(superpixels: Superpixels | readonly Superpixels[]): tf.Tensor4D {
  const list = Array.isArray(superpixels) ? (superpixels as readonly Superpixels[]) : [superpixels as Superpixels];
  const argument = Array.isArray(superpixels) ? (i: number) => `superpixels[${i}]` : () => 'superpixels';
  if (list.length === 0) throw new GlassboxArgumentError('superpixels', 'expected a segmentation or a non-empty array of them, got []');
  const { height, width } = list[0] ?? {};
  list.forEach((s, i) => {
    const ok = s !== null && typeof s === 'object' && s.labels instanceof Int32Array && s.height === height && s.width === width && s.labels.length === height * width;
    if (!ok) {
      throw new GlassboxArgumentError(argument(i), `expected a slic() result with ${height}×${width} labels (as the first), got ${describeValue(s)}`);
    }
  });
  const ids = new Int32Array(list.length * height * width);
  list.forEach((s, i) => ids.set(s.labels, i * height * width));
  return tf.tensor4d(ids, [list.length, height, width, 1], 'int32');
}
