/**
 * A call is invisible to the rest of the process: while any method awaits, a user's training loop and
 * a user's own gradient code run exactly as they would alone (bit-identical), and methods running at
 * the same time give exactly what each gives alone. Every override (backend-gap kernels, zero filter
 * gradients, guided rules, row contexts) must live inside one synchronous scope.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import {
  deconvolution,
  deepLift,
  deepLiftShap,
  gradCam,
  gradientShap,
  guidedBackprop,
  guidedBackpropIntegratedGradients,
  guidedGradCam,
  integratedGradients,
  lrp,
  occlusion,
  rise,
  saliency,
  smoothGrad,
  smoothTaylor,
} from '../../src/index';
import { setSeededWeights } from '../helpers/models';

/** Whether the backend can train convolutions (tfjs-backend-wasm 4.22 has no filter-gradient kernels). */
const trainsConvolutions = () => tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) !== undefined;

/**
 * A small CNN whose training needs conv filter gradients (linear-activation convs are fused in tfjs) and
 * ReLU / max-pool gradients; on a backend that cannot train convolutions, the same head on flattened
 * pixels (ReLU gradients only).
 */
function trainable(): tfl.LayersModel {
  if (!trainsConvolutions()) {
    return setSeededWeights(
      tfl.sequential({
        layers: [
          tfl.layers.flatten({ inputShape: [8, 8, 1] }),
          tfl.layers.dense({ units: 6, activation: 'relu' }),
          tfl.layers.dense({ units: 3 }),
        ],
      }),
      17,
      0.6,
    );
  }
  return cnn(17, 0.6);
}

function cnn(seed: number, scale: number): tfl.LayersModel {
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, padding: 'same', name: 'conv1' }),
      tfl.layers.activation({ activation: 'relu' }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv2' }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 3 }),
    ],
  });
  return setSeededWeights(model, seed, scale);
}

/** Trains a fresh copy for a few steps with plain SGD and returns its weights as arrays. */
async function train(during?: () => Promise<unknown>): Promise<Float32Array[]> {
  const model = trainable();
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
  const x = tf.randomUniform([12, 8, 8, 1], 0, 1, 'float32', 21);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2], 'int32'), 3);
  const fit = model.fit(x, y, { epochs: 4, batchSize: 2, shuffle: false, verbose: 0 });
  await Promise.all([fit, during?.()]);
  const weights = await Promise.all(model.getWeights().map((w) => w.data() as Promise<Float32Array>));
  [x, y].forEach((t) => t.dispose());
  model.dispose();
  return weights;
}

/**
 * A user's gradient code: ReLU and max pooling of a template match whose filter is a slice of the input
 * (the filter gradient is needed), or, where the backend has no filter-gradient kernel, of the input.
 */
function templateGradient(seed: number): Promise<Float32Array> {
  return tf.tidy(() => {
    const image = tf.randomUniform([1, 6, 6, 1], -1, 1, 'float32', seed);
    const f = (v: tf.Tensor) => {
      const filter = tf.reshape(tf.slice(v, [0, 0, 0, 0], [1, 3, 3, 1]), [3, 3, 1, 1]) as tf.Tensor4D;
      const matched = trainsConvolutions() ? tf.conv2d(v as tf.Tensor4D, filter, 1, 'same') : (v as tf.Tensor4D);
      return tf.sum(tf.mul(tf.relu(tf.maxPool(matched, 2, 2, 'valid')), tf.reshape(tf.range(1, 10), [1, 3, 3, 1])));
    };
    return tf.grad(f)(image);
  }).data() as Promise<Float32Array>;
}

/** Runs a loop of user gradient computations, one per macrotask, until `done` settles. */
async function gradientLoop(done: Promise<unknown>): Promise<Float32Array[]> {
  let finished = false;
  void done.finally(() => (finished = true));
  const results: Float32Array[] = [];
  for (let i = 0; !finished || i < 3; i++) {
    results.push(await templateGradient(100 + (i % 3)));
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return results.slice(0, 3);
}

const attributionModel = () => cnn(5, 0.8);
const image = () => tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 7);

/** Every method, each long enough (batchSize 1) to await many times. */
const METHODS: [string, (m: tfl.LayersModel, x: tf.Tensor) => Promise<tf.Tensor>][] = [
  ['saliency', (m, x) => saliency(m, x, { target: 1, batchSize: 1 })],
  ['integratedGradients', (m, x) => integratedGradients(m, x, { target: 1, steps: 12, batchSize: 1 })],
  ['guidedBackpropIntegratedGradients', (m, x) => guidedBackpropIntegratedGradients(m, x, { target: 1, steps: 12, batchSize: 1 })],
  ['smoothGrad', (m, x) => smoothGrad(m, x, { target: 1, samples: 6, seed: 1, batchSize: 1 })],
  ['smoothTaylor', (m, x) => smoothTaylor(m, x, { target: 1, samples: 8, seed: 1, batchSize: 1 })],
  ['lrp', (m, x) => lrp(m, x, { target: 1, batchSize: 1 })],
  ['gradCam', (m, x) => gradCam(m, x, { target: 1, layer: 'conv2', batchSize: 1 })],
  ['occlusion', (m, x) => occlusion(m, x, { target: 1, window: [4, 4, 1], strides: 2, batchSize: 1 })],
  ['rise', (m, x) => rise(m, x, { target: 1, samples: 16, seed: 1, batchSize: 1 })],
  ['guidedBackprop', (m, x) => guidedBackprop(m, x, { target: 1, batchSize: 1 })],
  ['deconvolution', (m, x) => deconvolution(m, x, { target: 1, batchSize: 1 })],
  ['guidedGradCam', (m, x) => guidedGradCam(m, x, { target: 1, layer: 'conv2', batchSize: 1 })],
  ['deepLift', (m, x) => deepLift(m, x, { target: 1, baseline: 0.5, batchSize: 1 })],
  ['deepLiftShap', (m, x) => withBaselines((baselines) => deepLiftShap(m, x, { target: 1, baselines, batchSize: 1 }))],
  ['gradientShap', (m, x) => withBaselines((baselines) => gradientShap(m, x, { target: 1, baselines, samples: 4, seed: 1, batchSize: 1 }))],
];

/** Runs `method` with a set of 3 baselines for the 8×8×1 images, freed afterwards. */
async function withBaselines(method: (baselines: tf.Tensor) => Promise<tf.Tensor>): Promise<tf.Tensor> {
  const baselines = tf.randomUniform([3, 8, 8, 1], 0, 1, 'float32', 9);
  try {
    return await method(baselines);
  } finally {
    baselines.dispose();
  }
}

async function runAll(model: tfl.LayersModel, x: tf.Tensor): Promise<Float32Array[]> {
  const results = await Promise.all(METHODS.map(([, method]) => method(model, x)));
  const values = await Promise.all(results.map((r) => r.data() as Promise<Float32Array>));
  results.forEach((r) => r.dispose());
  return values;
}

describe('concurrency', () => {
  it('a training loop running while every method awaits gets bit-identical weights', async () => {
    const alone = await train();
    const again = await train();
    alone.forEach((w, i) => expect(Array.from(again[i])).toEqual(Array.from(w)));
    const model = attributionModel();
    const x = image();
    const alongside = await train(() => runAll(model, x));
    alone.forEach((w, i) => expect(Array.from(alongside[i])).toEqual(Array.from(w)));
    x.dispose();
    model.dispose();
  });

  it("a user's own gradient code running alongside gets exactly what it gets alone (filter gradients included)", async () => {
    const alone = await Promise.all([0, 1, 2].map((i) => templateGradient(100 + i)));
    expect(Math.max(...alone[0].map(Math.abs))).toBeGreaterThan(0);
    const model = attributionModel();
    const x = image();
    const work = runAll(model, x);
    const alongside = await gradientLoop(work);
    await work;
    alone.forEach((g, i) => expect(Array.from(alongside[i])).toEqual(Array.from(g)));
    x.dispose();
    model.dispose();
  });

  it('methods running at the same time give exactly what each gives alone', async () => {
    const model = attributionModel();
    const x = image();
    const together = await runAll(model, x);
    for (const [i, [name, method]] of METHODS.entries()) {
      const alone = await method(model, x);
      expect(Array.from(together[i]), name).toEqual(Array.from(await alone.data()));
      alone.dispose();
    }
    x.dispose();
    model.dispose();
  });
});
