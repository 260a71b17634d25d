/** The noise scale σ of the noisy-sample methods (noise tunnel, SmoothTaylor), absolute or relative to each example's range. */
import * as tf from '@tensorflow/tfjs-core';
import { GlassboxArgumentError } from '../core/errors';
import { assertNumberInRange } from '../core/validate';

/** How σ is given: absolute (`stdev`) or relative to each example's value range (`noiseLevel`). */
export interface NoiseScaleOptions {
  stdev?: number;
  noiseLevel?: number;
}

/**
 * Per-example σ for each input as `[n, 1, ...]` tensors (caller disposes): `stdev`, or
 * `noiseLevel · (max(x_e) − min(x_e))` of each example `x_e` (Zennit's convention). When neither is
 * given, `defaults` decides. `names` are the option names used in errors.
 */
export function noiseScales(
  inputs: readonly tf.Tensor[],
  options: NoiseScaleOptions,
  defaults: NoiseScaleOptions,
  names: { stdev: string; noiseLevel: string } = { stdev: 'options.stdev', noiseLevel: 'options.noiseLevel' },
): tf.Tensor[] {
  if (options.stdev !== undefined && options.noiseLevel !== undefined) {
    throw new GlassboxArgumentError(names.stdev, `give either ${names.stdev} (absolute) or ${names.noiseLevel} (relative), not both`);
  }
  const stdev = options.stdev ?? (options.noiseLevel === undefined ? defaults.stdev : undefined);
  if (stdev !== undefined) assertNumberInRange(stdev, names.stdev, { min: 0 });
  const level = options.noiseLevel ?? defaults.noiseLevel;
  if (stdev === undefined) assertNumberInRange(level, names.noiseLevel, { min: 0 });
  return tf.tidy(() =>
    inputs.map((x) => {
      const broadcastShape = [x.shape[0], ...new Array<number>(x.rank - 1).fill(1)];
      if (stdev !== undefined) return tf.fill(broadcastShape, stdev);
      const flat = tf.reshape(tf.cast(x, 'float32'), [x.shape[0], -1]);
      return tf.reshape(tf.mul(tf.sub(tf.max(flat, 1), tf.min(flat, 1)), level!), broadcastShape);
    }),
  );
}
