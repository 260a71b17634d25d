/**
 * LRP on a converted TensorFlow GraphModel: nsfwjs's MobileNetV2 (`mobilenet_v2_mid`: the image is
 * normalised inside the graph by Mul and Sub, then 35 fused convolutions with bias and ReLU6, 17 fused
 * depthwise convolutions, 10 residual AddV2, average pooling, MatMul, softmax) explaining its top class
 * for the anatomy drawing of `@vladmandic/human`. The graph is compiled op by op; every composite
 * works as on a LayersModel. Writes the input and one heatmap per composite to
 * docs/guides/lrp-composites/graph-model/, and prints time, relevance sum and the share of positive
 * relevance on the figure.
 *
 *   npx tsx examples/lrp-graph-model.ts
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { concatTiles, heatmap, lrp, saliency, type LrpOptions } from '../src/index';
import { writePng } from '../src/node/index';
import { loadMobileNetV2GraphModel, NSFW_CLASSES } from './models/pretrained';
import { figureMask, loadAnatomyDrawing, positiveShareOnFigure } from './support/anatomy-drawing';

const OUTPUT = join(import.meta.dirname, '..', 'docs', 'guides', 'lrp-composites', 'graph-model');

// The graph maps the [0, 1] image to 2x − 1 before its first convolution, so the ZBox bounds of
// 'epsilon-gamma-box' (which apply to the first convolution's input) are −1 and 1.
const composites: [string, LrpOptions][] = [
  ['epsilon-plus-flat', { composite: 'epsilon-plus-flat' }],
  ['epsilon-alpha2-beta1-flat', { composite: 'epsilon-alpha2-beta1-flat' }],
  ['epsilon-gamma-box', { composite: 'epsilon-gamma-box', low: -1, high: 1 }],
];

await tf.setBackend('wasm');
await tf.ready();
const model = await loadMobileNetV2GraphModel();
const picture = loadAnatomyDrawing();
const figure = figureMask(picture);
const probabilities = model.predict(picture) as tf.Tensor2D;
const target = (await tf.argMax(probabilities, 1).data())[0];
console.log(`backend ${tf.getBackend()}: top class '${NSFW_CLASSES[target]}', p = ${(await probabilities.data())[target].toFixed(3)}`);

const tiles: tf.Tensor[] = [tf.squeeze(picture, [0])];
await writePng(join(OUTPUT, 'input.png'), tiles[0]);
const started = performance.now();
const gradient = await saliency(model, picture, { target });
console.log(`saliency: ${(performance.now() - started).toFixed(0)} ms`);
tiles.push(tf.tidy(() => tf.squeeze(heatmap(gradient, { sign: 'positive', reduce: 'max-abs', clip: { percentile: 99.5 } }), [0])));
await writePng(join(OUTPUT, 'saliency.png'), tiles.at(-1)!);
gradient.dispose();
for (const [name, options] of composites) {
  const began = performance.now();
  const relevance = await lrp(model, picture, { target, ...options });
  const ms = performance.now() - began;
  const total = tf.sum(relevance);
  const sum = (await total.data())[0];
  total.dispose();
  const onFigure = await positiveShareOnFigure(relevance, figure);
  console.log(`${name.padEnd(26)} ${ms.toFixed(0).padStart(6)} ms   Σ R = ${sum.toExponential(2)}   positive relevance on the figure ${(100 * onFigure).toFixed(1)}%`);
  tiles.push(tf.tidy(() => tf.squeeze(heatmap(relevance, { sign: 'all', clip: { percentile: 99.5 } }), [0])));
  await writePng(join(OUTPUT, `${name}.png`), tiles.at(-1)!);
  relevance.dispose();
}
await writePng(join(OUTPUT, 'grid.png'), concatTiles(tiles, { padding: 4 }));
tf.dispose([...tiles, picture, figure, probabilities]);
model.dispose();
console.log(`wrote ${OUTPUT}`);
