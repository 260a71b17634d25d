/**
 * The perturbation family on MNIST digits, with SLIC superpixels as the feature groups: feature
 * ablation, Shapley value sampling, KernelSHAP and LIME (one superpixel mask per digit), and feature
 * permutation (a 4×4 grid of 7×7 blocks, permuted across 32 digits). Writes, for three digits, the
 * input, its superpixels and one heatmap per method to docs/guides/perturbation-family/ (and a grid),
 * and prints each method's time, number of model evaluations and, for the Shapley estimators, how far
 * Σφ is from f(x) − f(0).
 *
 *   npx tsx examples/perturbation-family.ts
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import {
  concatTiles,
  featureAblation,
  featurePermutation,
  heatmap,
  kernelShap,
  lime,
  shapleyValueSampling,
  slic,
  superpixelMask,
  type Superpixels,
} from '../src/index';
import { writePng } from '../src/node/index';
import { trainedMnistCnn } from './mnist-cnn';

const OUTPUT = join(import.meta.dirname, '..', 'docs', 'guides', 'perturbation-family');
const CACHE = join('examples', '.cache', 'mnist-cnn');
const SIZE = 112;

/** Each superpixel in a grey level of its own (label-scrambled so neighbours differ), as RGB. */
function segmentImage(superpixels: Superpixels): tf.Tensor3D {
  const grey = Float32Array.from(superpixels.labels, (label) => 0.15 + 0.7 * (((label * 37) % superpixels.count) / superpixels.count));
  return tf.tidy(() => tf.tile(tf.tensor3d(grey, [superpixels.height, superpixels.width, 1]), [1, 1, 3]));
}

const upscale = (images: tf.Tensor) => tf.image.resizeNearestNeighbor(images as tf.Tensor4D, [SIZE, SIZE]);

await tf.setBackend('wasm');
await tf.ready();
const { model, accuracy, test } = await trainedMnistCnn(CACHE);
console.log(`MNIST CNN, test accuracy ${(100 * accuracy).toFixed(1)}%, backend ${tf.getBackend()}`);

// Three digits (a 2, a 5, a 7), explained for their true class; 32 digits for the permutation.
const labels = await test.y.data();
const picks = [2, 5, 7].map((digit) => labels.findIndex((l) => l === digit));
const x = tf.gather(test.x, picks) as tf.Tensor4D;
const target = picks.map((i) => labels[i]);
const superpixels = await Promise.all(tf.unstack(x).map(async (image) => {
  const segments = await slic(image as tf.Tensor3D, { segments: 25, compactness: 10 });
  image.dispose();
  return segments;
}));
const featureMask = superpixelMask(superpixels);
console.log(`superpixels per digit: ${superpixels.map((s) => s.count).join(', ')}`);

const scores = tf.tidy(() => tf.sub(model.predict(x) as tf.Tensor, model.predict(tf.zerosLike(x)) as tf.Tensor));
const deltas = await scores.data();
const delta = (e: number) => deltas[e * 10 + target[e]];

/** Σφ over the groups of digit e (each group once: every pixel of a group carries the group's value). */
async function groupSum(attribution: tf.Tensor, e: number): Promise<number> {
  const values = await attribution.data();
  const seen = new Map<number, number>();
  superpixels[e].labels.forEach((label, p) => seen.set(label, values[e * 784 + p]));
  return [...seen.values()].reduce((a, b) => a + b, 0);
}

const evaluations = (perDigit: (e: number) => number) => picks.reduce((sum, _, e) => sum + perDigit(e), 0);
const methods: { name: string; passes: number; run: () => Promise<tf.Tensor>; efficient?: boolean }[] = [
  {
    name: 'featureAblation',
    passes: evaluations((e) => 1 + superpixels[e].count),
    run: () => featureAblation(model, x, { target, featureMask }),
  },
  {
    name: 'shapleyValueSampling',
    passes: evaluations((e) => 2 + 50 * (superpixels[e].count - 1)),
    run: () => shapleyValueSampling(model, x, { target, featureMask, samples: 50, seed: 1 }),
    efficient: true,
  },
  { name: 'kernelShap', passes: 3 * 500, run: () => kernelShap(model, x, { target, featureMask, samples: 500, seed: 1 }), efficient: true },
  { name: 'lime', passes: 3 * 500, run: () => lime(model, x, { target, featureMask, samples: 500, seed: 1 }) },
  {
    name: 'featurePermutation',
    passes: 32 * 17,
    run: async () => {
      // 7×7 blocks, the same for every digit; the values of a block are permuted across 32 digits.
      const blocks = Array.from({ length: 28 }, (_, r) => Array.from({ length: 28 }, (_, c) => [4 * Math.floor(r / 7) + Math.floor(c / 7)]));
      const batch = tf.concat([x, tf.slice(test.x, 0, 29)]);
      const labelsOfBatch = [...target, ...Array.from(labels.slice(0, 29))];
      const all = await featurePermutation(model, batch, { target: labelsOfBatch, featureMask: blocks, seed: 1 });
      const first = tf.slice(all, 0, 3);
      tf.dispose([batch, all]);
      return first;
    },
  },
];

const columns: tf.Tensor[][] = [tf.unstack(upscale(x)).map((t) => tf.tidy(() => tf.tile(t, [1, 1, 3]))), superpixels.map((s) => tf.tidy(() => tf.squeeze(upscale(tf.expandDims(segmentImage(s))), [0])))];
for (const method of methods) {
  const started = performance.now();
  const attribution = await method.run();
  const seconds = (performance.now() - started) / 1000;
  let line = `${method.name.padEnd(22)} ${seconds.toFixed(2).padStart(6)} s  ${String(method.passes).padStart(6)} model evaluations`;
  if (method.efficient) {
    const gaps = await Promise.all(picks.map(async (_, e) => Math.abs((await groupSum(attribution, e)) - delta(e))));
    line += `   max |Σφ − (f(x) − f(0))| = ${Math.max(...gaps).toExponential(1)}`;
  }
  console.log(line);
  const rgb = tf.tidy(() => upscale(heatmap(attribution, { sign: 'all', clip: { percentile: 100 } })));
  columns.push(tf.unstack(rgb));
  tf.dispose([attribution, rgb]);
}

const names = ['input', 'superpixels', ...methods.map((m) => m.name)];
for (const [c, column] of columns.entries()) {
  for (const [i, tile] of column.entries()) await writePng(join(OUTPUT, `${names[c]}-${i}.png`), tile);
}
const grid = concatTiles(picks.map((_, i) => columns.map((column) => column[i])), { padding: 4 });
await writePng(join(OUTPUT, 'grid.png'), grid);
console.log(`wrote ${OUTPUT}/grid.png (rows: digits ${target.join(', ')}; columns: ${names.join(', ')})`);
tf.dispose([x, featureMask, scores, grid, ...columns.flat()]);
model.dispose();
