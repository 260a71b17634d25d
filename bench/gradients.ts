/**
 * Gradient-family overhead against the physical limits, on tfjs's cpu and wasm backends:
 * - saliency(batch n) / predict(batch n): one backward pass costs about 1–2 forward passes;
 * - IG(1 example, steps n, batchSize n) / saliency(batch n): both run n inputs forward and backward in
 *   one chunk, so 1.0 is the limit (the aim is under 1.1);
 * - saliency of a real MobileNetV2 (nsfwjs, 224×224) at batch 1, in seconds.
 *
 *   npx tsx bench/gradients.ts [n=16]
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tfc from '@tensorflow/tfjs-converter';
import { integratedGradients, saliency, type ModelLike } from '../src/index';
import { buildMnistCnn } from '../examples/mnist-cnn';
import { loadEmotionGraphModel, loadMobileNetV2 } from '../examples/models/pretrained';
import { medianMs, ratio } from './timing';

const n = Number(process.argv[2] ?? 16);

async function overheads(name: string, model: ModelLike, inputShape: number[], target: number): Promise<void> {
  const batch = tf.randomUniform([n, ...inputShape], 0, 1, 'float32', 1);
  const one = tf.slice(batch, 0, 1);
  const predict = (x: tf.Tensor) =>
    Promise.resolve(
      tf.tidy(() => (typeof model === 'function' ? (model(x) as tf.Tensor) : model instanceof tfc.GraphModel ? (model.predict(x) as tf.Tensor) : (model.predict(x) as tf.Tensor))),
    );
  const predictMs = await medianMs(() => predict(batch));
  const saliencyMs = await medianMs(() => saliency(model, batch, { target, batchSize: n }));
  const igMs = await medianMs(() => integratedGradients(model, one, { target, steps: n, batchSize: n }));
  console.log(ratio(`${name}: saliency / predict (batch ${n})`, saliencyMs, predictMs));
  console.log(ratio(`${name}: IG(steps ${n}, batchSize ${n}) / saliency (batch ${n})`, igMs, saliencyMs));
  [batch, one].forEach((t) => t.dispose());
}

for (const backend of ['cpu', 'wasm']) {
  await tf.setBackend(backend);
  console.log(`\n# backend ${backend}`);
  const cnn = buildMnistCnn();
  await overheads('MNIST CNN 28×28', cnn, [28, 28, 1], 3);
  cnn.dispose();
  const emotion = await loadEmotionGraphModel();
  await overheads('emotion GraphModel 64×64', emotion, [64, 64, 1], 3);
  emotion.dispose();
  const mobileNet = await loadMobileNetV2();
  const image = tf.randomUniform([1, 224, 224, 3], 0, 1, 'float32', 2);
  const predictMs = await medianMs(() => Promise.resolve(mobileNet.predict(image) as tf.Tensor), 1);
  const saliencyMs = await medianMs(() => saliency(mobileNet, image, { target: 2 }), 1);
  console.log(ratio('MobileNetV2 224×224: saliency / predict (batch 1)', saliencyMs, predictMs));
  console.log(`MobileNetV2 224×224: saliency at batch 1 takes ${(saliencyMs / 1000).toFixed(2)} s`);
  image.dispose();
  mobileNet.dispose();
}
