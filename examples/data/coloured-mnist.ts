/**
 * Colourised MNIST with concept label maps. Every real MNIST digit (from `mnist.ts`) is painted with a
 * random stroke colour on a random background colour, `pixel = g·stroke + (1 − g)·background` for the
 * digit's grey value g. Four concept groups, 19 concepts in all:
 *
 * - `digit` (10): the digit class, labelled on stroke pixels;
 * - `colour` (4): the stroke colour, labelled on stroke pixels;
 * - `background` (3): the background colour, labelled on background pixels;
 * - `region` (2): stroke or background, labelled on both.
 *
 * At a resolution r (a divisor of 28) a cell is a stroke cell when its mean grey value exceeds 0.3, a
 * background cell below 0.02, and carries no label in between. Masks come in the one-hot-per-group
 * format of `conceptLoss` and `inspectability`.
 */
import { mulberry32 } from '../../src/core/seeded-random';
import { loadMnist, MNIST_SIZE, type MnistSet } from './mnist';

export const STROKE_COLOURS = { red: [1, 0.15, 0.15], green: [0.15, 0.9, 0.2], blue: [0.2, 0.35, 1], yellow: [1, 0.9, 0.1] } as const;
export const BACKGROUND_COLOURS = { black: [0, 0, 0], navy: [0.05, 0.05, 0.35], olive: [0.3, 0.3, 0] } as const;

/** The concept groups, in channel order. */
export const CONCEPT_GROUPS = [
  { name: 'digit', size: 10 },
  { name: 'colour', size: 4 },
  { name: 'background', size: 3 },
  { name: 'region', size: 2 },
];

/** One name per concept channel. */
export const CONCEPT_NAMES = [
  ...Array.from({ length: 10 }, (_, d) => `digit ${d}`),
  ...Object.keys(STROKE_COLOURS).map((c) => `${c} stroke`),
  ...Object.keys(BACKGROUND_COLOURS).map((c) => `${c} background`),
  'stroke',
  'background',
];

/** Mean grey value above which a cell is stroke, and below which it is background. */
const STROKE_LEVEL = 0.3;
const BACKGROUND_LEVEL = 0.02;

export interface ColouredMnistSet {
  /** `count` images of 28×28×3 (NHWC), values in [0, 1]. */
  images: Float32Array;
  digits: Int32Array;
  colours: Int32Array;
  backgrounds: Int32Array;
  count: number;
  /** The digits' grey values (`count` × 28 × 28), for the concept masks. */
  grey: Float32Array;
}

function colourise(set: MnistSet, random: () => number): ColouredMnistSet {
  const strokes = Object.values(STROKE_COLOURS);
  const backgrounds = Object.values(BACKGROUND_COLOURS);
  const pixels = MNIST_SIZE * MNIST_SIZE;
  const images = new Float32Array(set.count * pixels * 3);
  const colours = new Int32Array(set.count);
  const backgroundIds = new Int32Array(set.count);
  for (let n = 0; n < set.count; n++) {
    colours[n] = Math.floor(random() * strokes.length);
    backgroundIds[n] = Math.floor(random() * backgrounds.length);
    const [stroke, background] = [strokes[colours[n]], backgrounds[backgroundIds[n]]];
    for (let p = 0; p < pixels; p++) {
      const g = set.images[n * pixels + p];
      for (let c = 0; c < 3; c++) images[(n * pixels + p) * 3 + c] = g * stroke[c] + (1 - g) * background[c];
    }
  }
  return { images, digits: set.labels, colours, backgrounds: backgroundIds, count: set.count, grey: set.images };
}

/** Colourised training and test sets (`perClass` digits of each class each), seeded. */
export function loadColouredMnist(trainPerClass: number, testPerClass: number, seed = 1): { train: ColouredMnistSet; test: ColouredMnistSet } {
  const { train, test } = loadMnist(trainPerClass, testPerClass, seed);
  const random = mulberry32(seed + 1);
  return { train: colourise(train, random), test: colourise(test, random) };
}

/**
 * Concept masks of examples `start .. start + count − 1` at `resolution`×`resolution`: a Float32Array
 * of shape [count, resolution, resolution, 19], one-hot within each group, zeros where unlabelled.
 */
export function conceptMasks(set: ColouredMnistSet, resolution: number, start = 0, count = set.count - start): Float32Array {
  if (MNIST_SIZE % resolution !== 0) throw new Error(`resolution must divide ${MNIST_SIZE}, got ${resolution}`);
  const cell = MNIST_SIZE / resolution;
  const k = CONCEPT_NAMES.length;
  const out = new Float32Array(count * resolution * resolution * k);
  for (let i = 0; i < count; i++) {
    const n = start + i;
    for (let cy = 0; cy < resolution; cy++) {
      for (let cx = 0; cx < resolution; cx++) {
        let sum = 0;
        for (let y = cy * cell; y < (cy + 1) * cell; y++) {
          for (let x = cx * cell; x < (cx + 1) * cell; x++) sum += set.grey[n * MNIST_SIZE * MNIST_SIZE + y * MNIST_SIZE + x];
        }
        const mean = sum / (cell * cell);
        const base = ((i * resolution + cy) * resolution + cx) * k;
        if (mean > STROKE_LEVEL) {
          out[base + set.digits[n]] = 1;
          out[base + 10 + set.colours[n]] = 1;
          out[base + 17] = 1;
        } else if (mean < BACKGROUND_LEVEL) {
          out[base + 14 + set.backgrounds[n]] = 1;
          out[base + 18] = 1;
        }
      }
    }
  }
  return out;
}
