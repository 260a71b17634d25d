/**
 * Layer and neuron attribution on the MNIST CNN (trained, cached in examples/.cache/mnist-cnn), on tfjs's
 * cpu and wasm backends:
 * - cost against the input-gradient methods doing the same number of rows: layer IG (steps n) / IG (steps
 *   n) (limit about 1: the same n forward + backward rows, plus 2 forward rows for the layer at x and at
 *   the baseline, minus the backward below the layer); conductance (steps n) / IG (steps n) (one extra
 *   forward per row for the layer's outputs along the path); layer gradient × activation and neuron
 *   gradient (batch n) / saliency (batch n);
 * - completeness of layer IG and conductance at 'conv2' for 6 test digits: max over digits of
 *   |Σ attribution − (f_c(x) − f_c(0))| / |f_c(x) − f_c(0)| for several step counts.
 *
 *   npx tsx bench/layer.ts [n=16]
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  integratedGradients,
  layerConductance,
  layerGradientXActivation,
  layerIntegratedGradients,
  neuronGradient,
  saliency,
  type QuadratureMethod,
} from '../src/index';
import { trainedMnistCnn } from '../examples/mnist-cnn';
import { medianMs, ratio } from './timing';

const n = Number(process.argv[2] ?? 16);
const LAYER = 'conv2';

async function costs(model: tfl.LayersModel, digits: tf.Tensor): Promise<void> {
  const one = tf.slice(digits, 0, 1);
  const batch = tf.tile(one, [n, 1, 1, 1]);
  const igMs = await medianMs(() => integratedGradients(model, one, { target: 3, steps: n, batchSize: n }));
  const ligMs = await medianMs(() => layerIntegratedGradients(model, one, { layer: LAYER, target: 3, steps: n, batchSize: n + 2 }));
  const condMs = await medianMs(() => layerConductance(model, one, { layer: LAYER, target: 3, steps: n, batchSize: n }));
  const saliencyMs = await medianMs(() => saliency(model, batch, { target: 3, batchSize: n }));
  const gxaMs = await medianMs(() => layerGradientXActivation(model, batch, { layer: LAYER, target: 3, batchSize: n }));
  const neuronMs = await medianMs(() => neuronGradient(model, batch, { layer: LAYER, neuron: [2, 2, 5], batchSize: n }));
  console.log(ratio(`layerIntegratedGradients(steps ${n}) / IG(steps ${n})`, ligMs, igMs));
  console.log(ratio(`layerConductance(steps ${n}) / IG(steps ${n})`, condMs, igMs));
  console.log(ratio(`layerGradientXActivation(batch ${n}) / saliency(batch ${n})`, gxaMs, saliencyMs));
  console.log(ratio(`neuronGradient(batch ${n}) / saliency(batch ${n})`, neuronMs, saliencyMs));
  [one, batch].forEach((t) => t.dispose());
}

/** Max relative completeness gap over the digits. */
async function gap(model: tfl.LayersModel, digits: tf.Tensor, target: number[], attribution: tf.Tensor): Promise<number> {
  const [sums, differences] = tf.tidy(() => {
    const score = (v: tf.Tensor) => tf.sum(tf.mul(model.predict(v) as tf.Tensor, tf.oneHot(tf.tensor1d(target, 'int32'), 10)), 1);
    return [tf.sum(tf.reshape(attribution, [digits.shape[0], -1]), 1), tf.sub(score(digits), score(tf.zerosLike(digits)))];
  });
  const [s, d] = [await sums.data(), await differences.data()];
  tf.dispose([sums, differences, attribution]);
  return Math.max(...Array.from(s, (v: number, i) => Math.abs(v - d[i]) / Math.abs(d[i])));
}

async function completeness(model: tfl.LayersModel, digits: tf.Tensor, target: number[]): Promise<void> {
  const rows: string[] = [];
  for (const steps of [8, 16, 32, 64]) {
    const cells: string[] = [];
    for (const method of ['gausslegendre', 'riemann_trapezoid'] as QuadratureMethod[]) {
      cells.push((await gap(model, digits, target, await layerIntegratedGradients(model, digits, { layer: LAYER, target, steps, method }))).toExponential(1));
    }
    for (const method of ['gausslegendre', 'riemann_trapezoid'] as QuadratureMethod[]) {
      cells.push((await gap(model, digits, target, await layerConductance(model, digits, { layer: LAYER, target, steps, method }))).toExponential(1));
    }
    rows.push(`| ${steps} | ${cells.join(' | ')} |`);
  }
  console.log(`completeness at '${LAYER}', ${digits.shape[0]} digits: max |Σ − Δf| / |Δf|`);
  console.log('| steps | layer IG, Gauss–Legendre | layer IG, trapezoid | conductance, Gauss–Legendre | conductance, trapezoid |');
  console.log('|---:|---:|---:|---:|---:|');
  rows.forEach((row) => console.log(row));
}

await tf.setBackend('wasm');
const { model, test } = await trainedMnistCnn('examples/.cache/mnist-cnn');
const labels = await test.y.data();
const picks = [0, 1, 2, 3, 4, 5].map((digit) => labels.findIndex((l) => l === digit));
const digits = tf.gather(test.x, picks);
for (const backend of ['cpu', 'wasm']) {
  await tf.setBackend(backend);
  console.log(`\n# backend ${backend}`);
  await costs(model, digits);
}
await completeness(model, digits, picks.map((i) => labels[i]));
