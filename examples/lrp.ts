/**
 * LRP composites side by side on a real model: nsfwjs's Keras MobileNetV2 (ZeroPadding, Conv2D,
 * DepthwiseConv2D, BatchNorm, ReLU6, residual Add, global average pooling, Dense + softmax) explaining
 * its top class for a real picture (the anatomy drawing shipped as `@vladmandic/human/assets/icon.png`).
 * Writes the input, one heatmap per method and a grid to docs/guides/lrp-composites/, and prints, per
 * composite, the time, the relevance sum against the explained logit, and the share of positive
 * relevance on the figure (non-white pixels).
 *
 *   npx tsx examples/lrp.ts
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-wasm';
import { concatTiles, heatmap, lrp, saliency, type LrpOptions } from '../src/index';
import { writePng } from '../src/node/index';
import { loadMobileNetV2, NSFW_CLASSES } from './models/pretrained';
import { figureMask, loadAnatomyDrawing, positiveShareOnFigure } from './support/anatomy-drawing';

const OUTPUT = join(import.meta.dirname, '..', 'docs', 'guides', 'lrp-composites');

const composites: [string, LrpOptions][] = [
  ['epsilon', { composite: 'epsilon', epsilon: 0.25 }],
  ['epsilon-plus', { composite: 'epsilon-plus' }],
  ['epsilon-plus-flat', { composite: 'epsilon-plus-flat' }],
  ['epsilon-alpha2-beta1-flat', { composite: 'epsilon-alpha2-beta1-flat' }],
  ['epsilon-gamma-box', { composite: 'epsilon-gamma-box', low: 0, high: 1 }],
];

await tf.setBackend('wasm');
await tf.ready();
const model = await loadMobileNetV2();
const picture = loadAnatomyDrawing();
const probabilities = model.predict(picture) as tf.Tensor2D;
const target = (await tf.argMax(probabilities, 1).data())[0];
console.log(`backend ${tf.getBackend()}: top class '${NSFW_CLASSES[target]}', p = ${(await probabilities.data())[target].toFixed(3)}`);

// The logit LRP explains: the Dense layer's pre-softmax output.
const classifier = model.layers.at(-1)!;
const logitModel = tfl.model({ inputs: model.inputs, outputs: classifier.input as tfl.SymbolicTensor });
const features = logitModel.predict(picture) as tf.Tensor;
const [kernel, bias] = classifier.getWeights();
const logit = (await tf.add(tf.matMul(features as tf.Tensor2D, kernel as tf.Tensor2D), bias).data())[target];
const figure = figureMask(picture);

const tiles: tf.Tensor[] = [tf.squeeze(picture)];
await writePng(join(OUTPUT, 'input.png'), tiles[0]);
const start = performance.now();
const gradient = await saliency(model, picture, { target });
console.log(`saliency: ${(performance.now() - start).toFixed(0)} ms`);
tiles.push(tf.tidy(() => tf.squeeze(heatmap(gradient, { sign: 'positive', reduce: 'max-abs', clip: { percentile: 99.5 } }))));
await writePng(join(OUTPUT, 'saliency.png'), tiles.at(-1)!);
for (const [name, options] of composites) {
  const began = performance.now();
  const relevance = await lrp(model, picture, { target, ...options });
  const ms = performance.now() - began;
  const total = tf.sum(relevance);
  const sum = (await total.data())[0];
  total.dispose();
  const onFigure = await positiveShareOnFigure(relevance, figure);
  console.log(
    `${name.padEnd(26)} ${ms.toFixed(0).padStart(6)} ms   Σ R = ${sum.toExponential(2)} (logit ${logit.toFixed(3)})   ` +
      `positive relevance on the figure ${(100 * onFigure).toFixed(1)}%`,
  );
  tiles.push(tf.tidy(() => tf.squeeze(heatmap(relevance, { sign: 'all', clip: { percentile: 99.5 } }))));
  await writePng(join(OUTPUT, `${name}.png`), tiles.at(-1)!);
  relevance.dispose();
}
await writePng(join(OUTPUT, 'grid.png'), concatTiles(tiles, { padding: 4 }));
console.log(`wrote ${OUTPUT}`);
