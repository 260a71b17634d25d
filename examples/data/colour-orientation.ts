/**
 * A synthetic colour/orientation data set for checking colour and edge scores: every image shows
 * sinusoidal stripes (random period 3–6 px and phase) painted in one colour channel over weak noise in
 * all channels. The stripes are either vertical (intensity changes along x) or horizontal (along y).
 *
 * - task `'colour'`: the class is the stripe channel (0 red, 1 green, 2 blue); orientation is random;
 * - task `'orientation'`: the class is the orientation (0 vertical, 1 horizontal); the channel is random.
 *
 * So a classifier of the colour task must use the deciding channel, and one of the orientation task
 * must use horizontal (vertical stripes, `sobel-x`) or vertical (horizontal stripes, `sobel-y`)
 * intensity changes.
 */
import { seededRandom } from './mnist';

export type ColourOrientationTask = 'colour' | 'orientation';

export const COLOUR_CLASSES = ['red', 'green', 'blue'] as const;
export const ORIENTATION_CLASSES = ['vertical', 'horizontal'] as const;

export interface ColourOrientationSet {
  /** `count` images of `size × size × 3` (NHWC), values in [0, 1]. */
  images: Float32Array;
  /** The class of each image under the task. */
  labels: Int32Array;
  /** The stripe channel (0–2) and orientation (0 vertical, 1 horizontal) of each image. */
  channels: Int32Array;
  orientations: Int32Array;
  count: number;
  size: number;
}

/** `count` images of side `size` for `task`, generated from `seed`. */
export function colourOrientationSet(task: ColourOrientationTask, count: number, size = 16, seed = 1): ColourOrientationSet {
  const random = seededRandom(seed);
  const images = new Float32Array(count * size * size * 3);
  const labels = new Int32Array(count);
  const channels = new Int32Array(count);
  const orientations = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const channel = Math.floor(random() * 3);
    const orientation = Math.floor(random() * 2);
    const period = 3 + 3 * random();
    const phase = 2 * Math.PI * random();
    channels[n] = channel;
    orientations[n] = orientation;
    labels[n] = task === 'colour' ? channel : orientation;
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < size; j++) {
        const along = orientation === 0 ? j : i;
        const stripe = 0.5 + 0.5 * Math.sin((2 * Math.PI * along) / period + phase);
        for (let c = 0; c < 3; c++) {
          const noise = 0.1 * random();
          images[((n * size + i) * size + j) * 3 + c] = c === channel ? 0.8 * stripe + noise : noise;
        }
      }
    }
  }
  return { images, labels, channels, orientations, count, size };
}
