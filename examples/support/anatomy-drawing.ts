/**
 * The anatomy drawing shipped as `@vladmandic/human/assets/icon.png`, the picture the LRP examples
 * explain: as [1, 224, 224, 3] in [0, 1] (transparent pixels on white), and its figure mask.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { PNG } from 'pngjs';

const PICTURE = join(import.meta.dirname, '..', '..', 'node_modules', '@vladmandic', 'human', 'assets', 'icon.png');

/** The picture as [1, size, size, 3] in [0, 1], transparent pixels on white. */
export function loadAnatomyDrawing(size = 224): tf.Tensor4D {
  const png = PNG.sync.read(readFileSync(PICTURE));
  const rgba = tf.tensor3d(Uint8Array.from(png.data), [png.height, png.width, 4], 'int32');
  return tf.tidy(() => {
    const values = tf.div(tf.cast(rgba, 'float32'), 255);
    const [rgb, alpha] = tf.split(values, [3, 1], 2);
    const onWhite = tf.add(tf.mul(rgb, alpha), tf.sub(1, alpha));
    return tf.image.resizeBilinear(tf.expandDims(onWhite, 0) as tf.Tensor4D, [size, size], true);
  });
}

/** `[H, W]` booleans: the figure's (non-white) pixels of a picture [1, H, W, 3]. */
export function figureMask(picture: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => tf.less(tf.min(tf.squeeze(picture, [0]), 2), 0.9) as tf.Tensor2D);
}

/** The share of the positive relevance (summed over channels) that falls on the figure. */
export async function positiveShareOnFigure(relevance: tf.Tensor, figure: tf.Tensor2D): Promise<number> {
  const share = tf.tidy(() => {
    const positive = tf.relu(tf.sum(tf.squeeze(relevance, [0]), 2));
    return tf.div(tf.sum(tf.where(figure, positive, tf.zerosLike(positive))), tf.sum(positive));
  });
  const value = (await share.data())[0];
  share.dispose();
  return value;
}
