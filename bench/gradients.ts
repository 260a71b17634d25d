/**
 * Gradient-family overhead against the physical limits, on tfjs's cpu and wasm backends:
 * - saliency(batch n) / predict(batch n): one backward pass costs about 1–2 forward passes;
 * - IG(1 example, steps n, batchSize n) / saliency(batch n): both run n inputs forward and backward in
 *   one chunk, so 1.0 is the limit (the aim is under 1.1);
 * - guidedBackprop(batch n) / saliency(batch n): the same pass with modified ReLU gradients;
 * - deepLift(batch n) / saliency(batch 2n): DeepLift runs every example with its baseline (2n rows), so
 *   1.0 would be free rules; the rest is the cost of the Rescale and max-pool rules' element-wise work;
 * - saliency of a real MobileNetV2 (nsfwjs, 224×224) at batch 1, in seconds.
 * Benchmarks of one line run round-robin; ratios are printed from CPU time (tfjs's cpu and wasm
 * backends compute on the calling thread, so CPU time is robust to other load on the machine) and
 * from wall time.
 *
 *   npx tsx bench/gradients.ts [n=16]
 *   BENCH_BACKENDS=wasm npx tsx bench/gradients.ts   (one backend only)
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tfc from '@tensorflow/tfjs-converter';
import { deepLift, guidedBackprop, integratedGradients, saliency, type ModelLike } from '../src/index';
import { buildMnistCnn } from '../examples/mnist-cnn';
import { loadEmotionGraphModel, loadMobileNetV2 } from '../examples/models/pretrained';
import { interleavedMedians, type Timing } from './timing';

const n = Number(process.argv[2] ?? 16);

/** `label  cpu-ratio (wall ratio, ratio of the least CPU times)   (numerator ms / denominator ms CPU)`. */
function ratioLine(label: string, numerator: Timing, denominator: Timing): string {
  const cpu = (numerator.cpuMs / denominator.cpuMs).toFixed(2).padStart(6);
  const wall = (numerator.wallMs / denominator.wallMs).toFixed(2);
  const least = (numerator.cpuMinMs / denominator.cpuMinMs).toFixed(2);
  return `${label.padEnd(66)} ${cpu} (wall ${wall}, least CPU ${least})   (${numerator.cpuMs.toFixed(0)} ms / ${denominator.cpuMs.toFixed(0)} ms CPU)`;
}

/** `repeats`: rounds of the round-robin (a call on the MNIST CNN takes milliseconds: 3 medians of it are noise). */
async function overheads(name: string, model: ModelLike, inputShape: number[], target: number, repeats = 3): Promise<void> {
  const batch = tf.randomUniform([n, ...inputShape], 0, 1, 'float32', 1);
  const one = tf.slice(batch, 0, 1);
  const doubled = tf.concat([batch, batch]);
  const predict = (x: tf.Tensor) =>
    tf.tidy(() => (typeof model === 'function' ? (model(x) as tf.Tensor) : model instanceof tfc.GraphModel ? (model.predict(x) as tf.Tensor) : (model.predict(x) as tf.Tensor)));
  const times = await interleavedMedians({
    predict: () => predict(batch),
    saliency: () => saliency(model, batch, { target, batchSize: n }),
    ig: () => integratedGradients(model, one, { target, steps: n, batchSize: n }),
    guided: () => guidedBackprop(model, batch, { target, batchSize: n }),
    saliencyDoubled: () => saliency(model, doubled, { target, batchSize: 2 * n }),
    deepLift: () => deepLift(model, batch, { target, batchSize: 2 * n }),
  }, repeats);
  console.log(ratioLine(`${name}: saliency / predict (batch ${n})`, times.saliency, times.predict));
  console.log(ratioLine(`${name}: IG(steps ${n}, batchSize ${n}) / saliency (batch ${n})`, times.ig, times.saliency));
  console.log(ratioLine(`${name}: guidedBackprop / saliency (batch ${n})`, times.guided, times.saliency));
  console.log(ratioLine(`${name}: deepLift (batch ${n}) / saliency (batch ${2 * n})`, times.deepLift, times.saliencyDoubled));
  [batch, one, doubled].forEach((t) => t.dispose());
}

const backends = (process.env.BENCH_BACKENDS ?? 'cpu,wasm').split(',');

for (const backend of backends) {
  await tf.setBackend(backend);
  console.log(`\n# backend ${backend}`);
  const cnn = buildMnistCnn();
  await overheads('MNIST CNN 28×28', cnn, [28, 28, 1], 3, 31);
  cnn.dispose();
  const emotion = await loadEmotionGraphModel();
  await overheads('emotion GraphModel 64×64', emotion, [64, 64, 1], 3);
  emotion.dispose();
  const mobileNet = await loadMobileNetV2();
  const image = tf.randomUniform([1, 224, 224, 3], 0, 1, 'float32', 2);
  const pair = tf.concat([image, image]);
  const times = await interleavedMedians({
    predict: () => mobileNet.predict(image) as tf.Tensor,
    saliency: () => saliency(mobileNet, image, { target: 2 }),
    saliencyPair: () => saliency(mobileNet, pair, { target: 2, batchSize: 2 }),
    deepLift: () => deepLift(mobileNet, image, { target: 2 }),
  });
  console.log(ratioLine('MobileNetV2 224×224: saliency / predict (batch 1)', times.saliency, times.predict));
  console.log(ratioLine('MobileNetV2 224×224: deepLift (batch 1) / saliency (batch 2)', times.deepLift, times.saliencyPair));
  pair.dispose();
  console.log(`MobileNetV2 224×224: saliency at batch 1 takes ${(times.saliency.cpuMs / 1000).toFixed(2)} s CPU (${(times.saliency.wallMs / 1000).toFixed(2)} s wall)`);
  image.dispose();
  mobileNet.dispose();
}
