/**
 * The gradient family of issue 10 on real models: DeepLift, DeepLiftShap, GradientSHAP, guided
 * backpropagation, deconvolution and guided Grad-CAM (saliency for comparison), on
 * - real MNIST digits and the demo's CNN (conv–pool–conv–pool–dense, ReLU and max pooling: DeepLift's
 *   summation to delta holds exactly there), and
 * - nsfwjs's MobileNetV2 (Keras LayersModel ending in Dense + softmax, and the converted GraphModel
 *   ending in a Softmax op) explaining its top class for the anatomy drawing; DeepLift explains the
 *   logit, the softmax is left out.
 * Prints each method's time and DeepLift's summation residual `Σ A − (f(x) − f(x₀))` against the
 * logits, and writes heatmap grids to docs/guides/gradient-attributions/.
 *
 *   npx tsx examples/deeplift.ts
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  concatTiles,
  deconvolution,
  deepLift,
  deepLiftShap,
  gradientShap,
  guidedBackprop,
  guidedGradCam,
  heatmap,
  saliency,
  type HeatmapOptions,
} from '../src/index';
import { writePng } from '../src/node/index';
import { readGraph } from '../src/attribution/lrp/graph-model-source';
import { trainedMnistCnn } from './mnist-cnn';
import { loadMobileNetV2, loadMobileNetV2GraphModel, NSFW_CLASSES } from './models/pretrained';
import { loadAnatomyDrawing } from './support/anatomy-drawing';

const OUTPUT = join(import.meta.dirname, '..', 'docs', 'guides', 'gradient-attributions');
const CACHE = join(import.meta.dirname, '.cache', 'mnist-cnn');
const SIGNED: HeatmapOptions = { sign: 'all', colormap: 'bwr', clip: { percentile: 99.5 } };

/** Runs `explain`, prints its time, returns the attribution. */
async function timed(name: string, explain: () => Promise<tf.Tensor>): Promise<tf.Tensor> {
  const start = performance.now();
  const attribution = await explain();
  await attribution.data();
  console.log(`  ${name.padEnd(16)} ${(performance.now() - start).toFixed(0).padStart(7)} ms`);
  return attribution;
}

/** `max_e |Σ A_e − Δ_e|` and `max_e |Δ_e|` for attributions and score differences per example. */
async function residual(attribution: tf.Tensor, difference: tf.Tensor): Promise<string> {
  const [gap, scale] = tf.tidy(() => {
    const totals = tf.sum(tf.reshape(attribution, [attribution.shape[0], -1]), 1);
    return [tf.max(tf.abs(tf.sub(totals, difference))), tf.max(tf.abs(difference))];
  });
  const [g, s] = [(await gap.data())[0], (await scale.data())[0]];
  tf.dispose([gap, scale]);
  return `max |Σ A − Δf| = ${g.toExponential(1)} for |Δf| up to ${s.toFixed(2)}`;
}

await tf.setBackend('wasm');
await tf.ready();

// --- MNIST --------------------------------------------------------------------------------------
const { model: cnn, accuracy, test } = await trainedMnistCnn(CACHE);
console.log(`MNIST CNN, test accuracy ${(100 * accuracy).toFixed(1)}% (backend ${tf.getBackend()})`);
const labels = Array.from(await test.y.data());
const picked = [0, 1, 2, 3, 4, 5].map((digit) => labels.indexOf(digit));
const digits = tf.gather(test.x, picked);
const background = tf.slice(test.x, 100, 16);
const zeros = tf.zerosLike(digits);
const logitDelta = tf.tidy(() => {
  const scores = (x: tf.Tensor) => tf.sum(tf.mul(cnn.predict(x) as tf.Tensor, tf.oneHot(picked.map((i) => labels[i]), 10)), 1);
  return tf.sub(scores(digits), scores(zeros));
});
const target = picked.map((i) => labels[i]);
const mnist: [string, tf.Tensor][] = [
  ['saliency', await timed('saliency', () => saliency(cnn, digits, { target, abs: false }))],
  ['guidedBackprop', await timed('guidedBackprop', () => guidedBackprop(cnn, digits, { target }))],
  ['deconvolution', await timed('deconvolution', () => deconvolution(cnn, digits, { target }))],
  ['guidedGradCam', await timed('guidedGradCam', () => guidedGradCam(cnn, digits, { target, layer: 'conv2' }))],
  ['deepLift', await timed('deepLift', () => deepLift(cnn, digits, { target }))],
  ['deepLiftShap', await timed('deepLiftShap', () => deepLiftShap(cnn, digits, { target, baselines: background }))],
  ['gradientShap', await timed('gradientShap', () => gradientShap(cnn, digits, { target, baselines: background, samples: 32, seed: 1 }))],
];
console.log(`  deepLift, baseline 0: ${await residual(mnist[4][1], logitDelta)}`);
const rows = tf.tidy(() => {
  const maps = mnist.map(([, a]) => tf.unstack(heatmap(a, SIGNED)));
  return tf.unstack(digits).map((digit, e) => [digit, ...maps.map((m) => m[e])].map((t) => tf.image.resizeNearestNeighbor(t as tf.Tensor3D, [84, 84])));
});
await writePng(join(OUTPUT, 'mnist.png'), concatTiles(rows, { padding: 3 }));
console.log(`  columns of mnist.png: input, ${mnist.map(([name]) => name).join(', ')}`);
tf.dispose([digits, background, zeros, logitDelta, ...mnist.map(([, a]) => a), ...rows.flat()]);
cnn.dispose();

// --- MobileNetV2 (nsfwjs) -----------------------------------------------------------------------
const mobileNet = await loadMobileNetV2();
const picture = loadAnatomyDrawing();
const black = tf.zerosLike(picture);
const probabilities = mobileNet.predict(picture) as tf.Tensor;
const top = (await tf.argMax(probabilities, 1).data())[0];
console.log(`MobileNetV2 (LayersModel): top class '${NSFW_CLASSES[top]}', p = ${(await probabilities.data())[top].toFixed(3)}`);
// The logit: the last Dense layer's pre-softmax output, from its input features.
const classifier = mobileNet.layers.at(-1)!;
const features = tfl.model({ inputs: mobileNet.inputs, outputs: classifier.input as tfl.SymbolicTensor });
const [kernel, bias] = classifier.getWeights();
const logit = (x: tf.Tensor) => tf.tidy(() => tf.slice(tf.add(tf.matMul(features.predict(x) as tf.Tensor2D, kernel as tf.Tensor2D), bias), [0, top], [-1, 1]));
const mobileDelta = tf.tidy(() => tf.reshape(tf.sub(logit(picture), logit(black)), [-1]));
const baselines = tf.concat([black, tf.onesLike(picture)]);
const mobile: [string, tf.Tensor][] = [
  ['saliency', await timed('saliency', () => saliency(mobileNet, picture, { target: top, abs: false }))],
  ['guidedBackprop', await timed('guidedBackprop', () => guidedBackprop(mobileNet, picture, { target: top }))],
  ['guidedGradCam', await timed('guidedGradCam', () => guidedGradCam(mobileNet, picture, { target: top }))],
  ['deepLift', await timed('deepLift', () => deepLift(mobileNet, picture, { target: top }))],
  ['deepLiftShap', await timed('deepLiftShap', () => deepLiftShap(mobileNet, picture, { target: top, baselines }))],
  ['gradientShap', await timed('gradientShap', () => gradientShap(mobileNet, picture, { target: top, baselines, samples: 8, seed: 1 }))],
];
console.log(`  deepLift, black baseline: ${await residual(mobile[3][1], mobileDelta)}`);
const tiles = tf.tidy(() => [tf.squeeze(picture), ...mobile.map(([, a]) => tf.squeeze(heatmap(a, { ...SIGNED, reduce: 'sum' })))]);
await writePng(join(OUTPUT, 'mobilenet.png'), concatTiles(tiles, { padding: 4 }));
console.log(`  columns of mobilenet.png: input, ${mobile.map(([name]) => name).join(', ')}`);

// The converted GraphModel: executed up to the node feeding its final Softmax.
const graph = await loadMobileNetV2GraphModel();
const nodes = (await readGraph(graph)).nodes;
const softmax = nodes.find((n) => n.op === 'Softmax')!;
const graphLogit = (x: tf.Tensor) => tf.tidy(() => tf.slice(graph.execute(x, softmax.input![0]) as tf.Tensor, [0, top], [-1, 1]));
const graphDelta = tf.tidy(() => tf.reshape(tf.sub(graphLogit(picture), graphLogit(black)), [-1]));
console.log(`MobileNetV2 (GraphModel, ${nodes.length} nodes):`);
const fromGraph = await timed('deepLift', () => deepLift(graph, picture, { target: top }));
console.log(`  deepLift, black baseline: ${await residual(fromGraph, graphDelta)}`);
tf.dispose([picture, black, probabilities, mobileDelta, baselines, ...mobile.map(([, a]) => a), ...tiles, graphDelta, fromGraph]);
mobileNet.dispose();
graph.dispose();
console.log(`wrote ${OUTPUT}`);
