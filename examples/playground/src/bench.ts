/**
 * The browser half of `npm run bench` (bench/browser.ts drives it in headless Chromium): the ratios the
 * Node benchmarks print, measured on the backend named in the URL (`bench.html?backend=webgl`), with
 * the same timing (median after a warm-up) and the same line format, with fewer repeats and masks than
 * in Node (WebGL and WebGPU on SwiftShader run on the CPU, several times slower than wasm; ratios still
 * carry over). `window.bench` holds the lines.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-webgl';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { integratedGradients, lrp, mfpp, rise, saliency, type CompositeName } from '../../../src/index';
import { mobileNetLike, testImage, vggLike } from '../../../bench/models';
import { medianMs, ratio } from '../../../bench/timing';

declare global {
  interface Window {
    bench: { backend: string; lines: string[]; done: boolean; error: string | null };
  }
}
const params = new URLSearchParams(location.search);
const backend = params.get('backend') ?? 'webgl';
const state: Window['bench'] = { backend, lines: [], done: false, error: null };
window.bench = state;
const out = document.getElementById('out')!;
const print = (line: string) => {
  state.lines.push(line);
  out.textContent = state.lines.join('\n');
};
const root = new URL('./', location.href).href;

async function prepareBackend(): Promise<void> {
  if (backend === 'webgpu') await import('@tensorflow/tfjs-backend-webgpu');
  if (backend === 'wasm') setWasmPaths(new URL('wasm/', root).href);
  if (!(await tf.setBackend(backend))) throw new Error(`this browser cannot run the tfjs '${backend}' backend`);
  await tf.ready();
}

const predictOnce = (model: tfl.LayersModel, x: tf.Tensor) => Promise.resolve(tf.tidy(() => model.predict(x) as tf.Tensor));

/** As bench/gradients.ts: saliency / predict and IG(steps n, batchSize n) / saliency(batch n). */
async function gradients(n = 16): Promise<void> {
  const cnn = await tfl.loadLayersModel(new URL('models/mnist-cnn/model.json', root).href);
  const batch = tf.randomUniform([n, 28, 28, 1], 0, 1, 'float32', 1);
  const one = tf.slice(batch, 0, 1);
  const predictMs = await medianMs(() => predictOnce(cnn, batch));
  const saliencyMs = await medianMs(() => saliency(cnn, batch, { target: 3, batchSize: n }));
  const igMs = await medianMs(() => integratedGradients(cnn, one, { target: 3, steps: n, batchSize: n }));
  print(ratio(`MNIST CNN 28×28: saliency / predict (batch ${n})`, saliencyMs, predictMs));
  print(ratio(`MNIST CNN 28×28: IG(steps ${n}, batchSize ${n}) / saliency (batch ${n})`, igMs, saliencyMs));
  tf.dispose([batch, one]);
  cnn.dispose();
  const mobileNet = await tfl.loadLayersModel(new URL('models/mobilenet-v2/model.json', root).href);
  const image = tf.randomUniform([1, 224, 224, 3], 0, 1, 'float32', 2);
  const mobilePredictMs = await medianMs(() => predictOnce(mobileNet, image), 1);
  const mobileSaliencyMs = await medianMs(() => saliency(mobileNet, image, { target: 2 }), 1);
  print(ratio('MobileNetV2 224×224: saliency / predict (batch 1)', mobileSaliencyMs, mobilePredictMs));
  print(`MobileNetV2 224×224: saliency at batch 1 takes ${(mobileSaliencyMs / 1000).toFixed(2)} s`);
  image.dispose();
  mobileNet.dispose();
}

/** As bench/lrp.ts: lrp / saliency per composite on the VGG-like net, batch 16 of 32×32×3. */
async function lrpRatios(inputSize = 32, batchSize = 16): Promise<void> {
  const model = vggLike(inputSize);
  const x = tf.randomUniform([batchSize, inputSize, inputSize, 3], -1, 1, 'float32', 7);
  const base = { target: 3, batchSize };
  const saliencyMs = await medianMs(() => saliency(model, x, base), 1);
  for (const composite of ['epsilon', 'epsilon-plus-flat', 'epsilon-gamma-box'] as CompositeName[]) {
    const options = { ...base, composite, ...(composite === 'epsilon-gamma-box' ? { low: -1, high: 1 } : {}) };
    print(ratio(`VGG-like ${inputSize}×${inputSize}, batch ${batchSize}: lrp '${composite}' / saliency`, await medianMs(() => lrp(model, x, options), 1), saliencyMs));
  }
  x.dispose();
  model.dispose();
}

/** As bench/perturbation.ts: mfpp (and rise) / predict on the same inputs in the same batches. */
async function perturbation(name: string, model: tfl.LayersModel, masks: number, batchSize = 32): Promise<void> {
  const x = testImage(224);
  const options = { target: 3, masks, batchSize, seed: 1 };
  const batch = tf.tidy(() => tf.mul(tf.tile(x, [batchSize, 1, 1, 1]), 0.5));
  const predictAll = async () => {
    for (let done = 0; done < masks; done += batchSize) {
      const count = Math.min(batchSize, masks - done);
      const output = tf.tidy(() => model.predict(count === batchSize ? batch : tf.slice(batch, 0, count)) as tf.Tensor);
      await output.data();
      output.dispose();
    }
    return tf.scalar(0);
  };
  const predictMs = await medianMs(predictAll, 1);
  const mfppMs = await medianMs(() => mfpp(model, x, options), 1);
  const riseMs = await medianMs(() => rise(model, x, options), 1);
  print(ratio(`${name} 224×224, ${masks} masks, batch ${batchSize}: mfpp / predict`, mfppMs, predictMs));
  print(ratio(`${name} 224×224, ${masks} masks, batch ${batchSize}: rise / predict`, riseMs, predictMs));
  tf.dispose([x, batch]);
}

async function main(): Promise<void> {
  await prepareBackend();
  print(`# backend ${tf.getBackend()} (${navigator.userAgent.match(/Chrom\w+\/[\d.]+/)?.[0] ?? navigator.userAgent})`);
  await gradients();
  await lrpRatios();
  if (backend === 'webgpu' && params.get('perturbation') !== '1') {
    print('perturbation: skipped on webgpu (over 15 minutes on SwiftShader); bench.html?backend=webgpu&perturbation=1 runs it');
    return;
  }
  const small = mobileNetLike(224);
  await perturbation('small MobileNet-like', small, 128);
  small.dispose();
  const mobileNet = await tfl.loadLayersModel(new URL('models/mobilenet-v2/model.json', root).href);
  await perturbation('MobileNetV2', mobileNet, 32, 16);
  mobileNet.dispose();
}

main()
  .catch((error: unknown) => {
    state.error = error instanceof Error ? error.message : String(error);
    print(`error: ${state.error}`);
  })
  .finally(() => (state.done = true));
