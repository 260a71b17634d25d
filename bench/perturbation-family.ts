/**
 * The perturbation family's overhead over the model calls it needs: for each method, its time divided by
 * the time of `predict` on as many inputs as it evaluates, in batches of the same size (1.0 is the floor;
 * the aim is under 1.2). What is left over is building the perturbed inputs, reading the masks and
 * scores, and for KernelSHAP and LIME the regression. Runs on tfjs's cpu and wasm backends, on the MNIST
 * CNN (random weights, a real digit, slic superpixels) and on nsfwjs's MobileNetV2 (224×224, a smooth
 * test image, fewer samples). Times are the minimum of alternating runs (the least disturbed ones).
 *
 *   npx tsx bench/perturbation-family.ts [batchSize=64] [mobileNet=1] [backends=cpu,wasm]
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { featureAblation, featurePermutation, kernelShap, lime, shapleyValueSampling, slic, superpixelMask } from '../src/index';
import { loadMnist, MNIST_SIZE } from '../examples/data/mnist';
import { buildMnistCnn } from '../examples/mnist-cnn';
import { loadMobileNetV2 } from '../examples/models/pretrained';
import { ratio } from './timing';

const batchSize = Number(process.argv[2] ?? 64);
const withMobileNet = (process.argv[3] ?? '1') === '1';
const backends = (process.argv[4] ?? 'cpu,wasm').split(',');

/** A method run: its name, its number of model evaluations, and the call. */
interface Run {
  name: string;
  evaluations: number;
  call: () => Promise<tf.Tensor>;
}

/** `predict` on `total` inputs in batches of `batchSize`, each read back (the inputs are made beforehand). */
async function predictRows(model: tfl.LayersModel, batch: tf.Tensor, total: number): Promise<tf.Tensor> {
  for (let done = 0; done < total; done += batchSize) {
    const count = Math.min(batchSize, total - done);
    const out = tf.tidy(() => model.predict(count === batch.shape[0] ? batch : tf.slice(batch, 0, count)) as tf.Tensor);
    await out.data();
    out.dispose();
  }
  return tf.scalar(0);
}

/** Wall time of `fn` in ms (its result read back and disposed). */
async function timed(fn: () => Promise<tf.Tensor>): Promise<number> {
  const started = performance.now();
  const result = await fn();
  await result.data();
  const elapsed = performance.now() - started;
  result.dispose();
  return elapsed;
}

/**
 * Each method against predict on as many rows: after one warm-up pass, `repeats` alternating runs; the
 * minimum of each (the machine is shared, and the minimum is the run least disturbed by other work).
 */
async function measure(label: string, model: tfl.LayersModel, example: tf.Tensor, runs: Run[], repeats: number): Promise<void> {
  const batch = tf.tidy(() => tf.tile(example, [batchSize, 1, 1, 1]));
  await timed(() => predictRows(model, batch, 1));
  for (const run of runs) {
    const predict = () => predictRows(model, batch, run.evaluations);
    let [methodMs, predictMs] = [Infinity, Infinity];
    for (let r = 0; r < repeats; r++) {
      methodMs = Math.min(methodMs, await timed(run.call));
      predictMs = Math.min(predictMs, await timed(predict));
    }
    console.log(ratio(`${label}: ${run.name} (${run.evaluations} passes)`, methodMs, predictMs));
  }
  batch.dispose();
}

/**
 * The five methods with slic superpixel masks of about `segments` segments: feature ablation and
 * permutation on `batch` (ablation with one segmentation per image), the rest on its first image.
 */
async function runsFor(model: tfl.LayersModel, batch: tf.Tensor4D, segments: number, samples: { shapley: number; surrogate: number }): Promise<{ runs: Run[]; dispose: () => void }> {
  const n = batch.shape[0];
  const images = tf.unstack(batch).map((t) => t as tf.Tensor3D);
  const superpixels = await Promise.all(images.map((image) => slic(image, { segments, compactness: 10 })));
  tf.dispose(images);
  const perImage = superpixelMask(superpixels);
  const mask = superpixelMask(superpixels[0]);
  const image = tf.slice(batch, 0, 1) as tf.Tensor4D;
  const groups = superpixels[0].count;
  const options = { target: 1, featureMask: mask, batchSize, seed: 1 };
  const ablationPasses = superpixels.reduce((sum, s) => sum + 1 + s.count, 0);
  const runs: Run[] = [
    {
      name: `featureAblation, ${n} images × ~${Math.round(ablationPasses / n - 1)} superpixels`,
      evaluations: ablationPasses,
      call: () => featureAblation(model, batch, { target: 1, featureMask: perImage, batchSize }),
    },
    { name: `featurePermutation, ${n} images × ${groups} superpixels`, evaluations: n * (1 + groups), call: () => featurePermutation(model, batch, options) },
    {
      name: `shapleyValueSampling, ${groups} superpixels, ${samples.shapley} permutations`,
      evaluations: 2 + samples.shapley * (groups - 1),
      call: () => shapleyValueSampling(model, image, { ...options, samples: samples.shapley }),
    },
    { name: `kernelShap, ${groups} superpixels, ${samples.surrogate} samples`, evaluations: samples.surrogate, call: () => kernelShap(model, image, { ...options, samples: samples.surrogate }) },
    { name: `lime, ${groups} superpixels, ${samples.surrogate} samples`, evaluations: samples.surrogate, call: () => lime(model, image, { ...options, samples: samples.surrogate }) },
  ];
  return { runs, dispose: () => tf.dispose([perImage, mask, image]) };
}

const { test } = loadMnist(1, 2, 1);
for (const backend of backends) {
  await tf.setBackend(backend);
  await tf.ready();
  console.log(`\n# backend ${backend}`);
  const cnn = buildMnistCnn();
  const digits = tf.tensor4d(test.images.subarray(0, 16 * MNIST_SIZE * MNIST_SIZE), [16, MNIST_SIZE, MNIST_SIZE, 1]);
  const mnist = await runsFor(cnn, digits, 25, { shapley: 20, surrogate: 1000 });
  // Every pixel its own feature: 785 passes.
  const digit = tf.slice(digits, 0, 1);
  mnist.runs.unshift({ name: 'featureAblation, every pixel', evaluations: 1 + MNIST_SIZE * MNIST_SIZE, call: () => featureAblation(cnn, digit, { target: 1, batchSize }) });
  await measure('MNIST CNN', cnn, digit, mnist.runs, backend === 'wasm' ? 15 : 5);
  mnist.dispose();
  tf.dispose([digits, digit]);
  cnn.dispose();
  if (withMobileNet) {
    const mobileNet = await loadMobileNetV2();
    const size = 224;
    const image = tf.tidy(() => {
      const [ys, xs] = tf.meshgrid(tf.range(0, size), tf.range(0, size), { indexing: 'ij' });
      const disc = tf.cast(tf.less(tf.add(tf.square(tf.sub(xs, 134)), tf.square(tf.sub(ys, 90))), 45 ** 2), 'float32');
      const wave = tf.add(0.5, tf.mul(0.4, tf.sin(tf.add(tf.div(xs, 11), tf.div(ys, 13)))));
      const rgb = tf.stack([tf.add(tf.mul(disc, 0.2), tf.mul(wave, tf.sub(1, disc))), wave, tf.sub(1, wave)], 2);
      return tf.expandDims(rgb, 0) as tf.Tensor4D;
    });
    const pair = tf.concat([image, tf.reverse(image, 2)]) as tf.Tensor4D;
    const mobile = await runsFor(mobileNet, pair, 8, { shapley: 2, surrogate: 16 });
    await measure('MobileNetV2 224×224', mobileNet, image, mobile.runs, backend === 'wasm' ? 3 : 1);
    mobile.dispose();
    tf.dispose([image, pair]);
    mobileNet.dispose();
  }
}
