/**
 * Writes RGB tensors as PNG files (Node only), with the pure-JS `pngjs` encoder.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import pngjs from 'pngjs';
import { describeValue, GlassboxArgumentError } from '../core/errors';

/** Float values this far outside [0, 1] are rounding noise and clamped; farther ones are rejected. */
const FLOAT_SLACK = 1e-3;

/**
 * Writes an image tensor to a PNG file (8 bits per channel), creating missing parent folders.
 *
 * `rgb` is `[H, W]` (grey), `[H, W, C]` or `[1, H, W, C]` with `C` = 1 (grey), 3 (RGB) or 4 (RGBA);
 * float32 values in [0, 1] are written as `round(255·v)`, int32 values must already be in 0..255.
 * Reads the tensor once; leaves it to the caller.
 * @throws GlassboxArgumentError for another shape or dtype, NaN, or values out of range (a float
 *   image in 0..255 is reported with the fix: divide by 255 or cast to int32).
 * @example
 * import { writePng } from 'tfjs-glassbox/node';
 * await writePng('out/saliency.png', concatTiles([image, heatmap(attribution)]));
 */
export async function writePng(path: string, rgb: tf.Tensor): Promise<void> {
  if (typeof path !== 'string' || path.length === 0) {
    throw new GlassboxArgumentError('path', `expected a non-empty file path, got ${describeValue(path)}`);
  }
  if (!(rgb instanceof tf.Tensor) || rgb.isDisposed) {
    throw new GlassboxArgumentError('rgb', `expected a live tf.Tensor, got ${describeValue(rgb)}`);
  }
  const shape = rgb.rank === 4 && rgb.shape[0] === 1 ? rgb.shape.slice(1) : rgb.shape;
  const [height, width, channels = 1] = shape;
  if (shape.length < 2 || shape.length > 3 || ![1, 3, 4].includes(channels) || rgb.size === 0) {
    throw new GlassboxArgumentError(
      'rgb',
      `expected a non-empty [H, W], [H, W, 1 | 3 | 4] or [1, H, W, 1 | 3 | 4] image, got shape [${rgb.shape.join(', ')}]`,
    );
  }
  if (rgb.dtype !== 'float32' && rgb.dtype !== 'int32') {
    throw new GlassboxArgumentError('rgb', `expected a float32 (0..1) or int32 (0..255) tensor, got dtype ${rgb.dtype}`);
  }
  const values = await rgb.data();
  const bytes = toBytes(values as Float32Array | Int32Array, rgb.dtype);
  const png = new pngjs.PNG({ width: width!, height: height! });
  for (let pixel = 0; pixel < height! * width!; pixel++) {
    const source = pixel * channels;
    const target = pixel * 4;
    if (channels === 1) {
      png.data[target] = png.data[target + 1] = png.data[target + 2] = bytes[source]!;
    } else {
      png.data[target] = bytes[source]!;
      png.data[target + 1] = bytes[source + 1]!;
      png.data[target + 2] = bytes[source + 2]!;
    }
    png.data[target + 3] = channels === 4 ? bytes[source + 3]! : 255;
  }
  const colorType = channels === 1 ? 0 : channels === 3 ? 2 : 6;
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, pngjs.PNG.sync.write(png, { colorType }));
}

/** Converts pixel values to bytes, rejecting NaN and out-of-range values. */
function toBytes(values: Float32Array | Int32Array, dtype: 'float32' | 'int32'): Uint8Array {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (Number.isNaN(v)) throw new GlassboxArgumentError('rgb', 'contains NaN values; a PNG needs finite pixel values');
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (dtype === 'int32') {
    if (min < 0 || max > 255) {
      throw new GlassboxArgumentError('rgb', `expected int32 values in 0..255, got values in [${min}, ${max}]`);
    }
    return Uint8Array.from(values);
  }
  if (min < -FLOAT_SLACK || max > 1 + FLOAT_SLACK) {
    const hint = max > 1 && max <= 255 && min >= 0 ? '; for 0..255 data divide by 255 or cast to int32' : '';
    throw new GlassboxArgumentError('rgb', `expected float32 values in [0, 1], got values in [${min}, ${max}]${hint}`);
  }
  return Uint8Array.from(values, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
}
