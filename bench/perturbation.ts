/**
 * MFPP's overhead over the model calls it needs: the time of `mfpp` with N masks divided by the time
 * of `predict` on N inputs of the same size in the same batches (1.0 is the floor, plus segmentation;
 * the aim is under 1.2), and the share of the MFPP time spent in SLIC segmentation. RISE's ratio is
 * printed alongside. Runs on tfjs's cpu and wasm backends.
 *
 *   npx tsx bench/perturbation.ts [masks=256] [inputSize=224] [batchSize=32]
 *
 * The model is a small MobileNet-like stack (stride-2 stem, depthwise-separable blocks, global average
 * pooling, dense), random weights: the ratio depends on the model's cost, and a small model is the
 * unfavourable case for the overhead. On wasm, nsfwjs's MobileNetV2 (64 masks) shows a real model.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { mfpp, rise } from '../src/index';
import { segmentPyramid } from '../src/attribution/perturbation/mfpp';
import { loadMobileNetV2 } from '../examples/models/pretrained';
import { mobileNetLike, testImage } from './models';

const masks = Number(process.argv[2] ?? 256);
const inputSize = Number(process.argv[3] ?? 224);
const batchSize = Number(process.argv[4] ?? 32);

async function time(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

/** `predict` alone on the same number of inputs in the same batches (the inputs are made beforehand). */
async function predictInBatches(model: tfl.LayersModel, batch: tf.Tensor4D, total: number): Promise<void> {
  for (let done = 0; done < total; done += batchSize) {
    const count = Math.min(batchSize, total - done);
    const out = tf.tidy(() => model.predict(count === batchSize ? batch : tf.slice(batch, 0, count)) as tf.Tensor);
    await out.data();
    out.dispose();
  }
}

/** Times predict, segmentation, mfpp and rise for `model` on `backend` and prints the ratios. */
async function measure(backend: string, name: string, model: tfl.LayersModel, maskCount: number): Promise<void> {
  const x = testImage(inputSize);
  const options = { target: 3, masks: maskCount, batchSize, seed: 1 };
  // Warm-up (kernel set-up, wasm compilation) on a few masks.
  (await mfpp(model, x, { ...options, samples: batchSize })).dispose();
  (await rise(model, x, { ...options, samples: batchSize })).dispose();
  const batch = tf.tidy(() => tf.mul(tf.tile(x, [batchSize, 1, 1, 1]), 0.5)) as tf.Tensor4D;
  await predictInBatches(model, batch, maskCount);
  const predictMs = await time(() => predictInBatches(model, batch, maskCount));
  const segmentMs = await time(() => segmentPyramid(x, 5, 50));
  const mfppMs = await time(async () => (await mfpp(model, x, options)).dispose());
  const riseMs = await time(async () => (await rise(model, x, options)).dispose());
  console.log(
    `${backend}, ${name}: ${maskCount} masks of ${inputSize}×${inputSize}, batch ${batchSize}: predict ${predictMs.toFixed(0)} ms, ` +
      `mfpp ${mfppMs.toFixed(0)} ms (ratio ${(mfppMs / predictMs).toFixed(2)}, segmentation ${segmentMs.toFixed(0)} ms = ` +
      `${((100 * segmentMs) / mfppMs).toFixed(1)}% of mfpp), rise ${riseMs.toFixed(0)} ms (ratio ${(riseMs / predictMs).toFixed(2)})`,
  );
  tf.dispose([x, batch]);
}

for (const backend of ['cpu', 'wasm']) {
  await tf.setBackend(backend);
  await tf.ready();
  const model = mobileNetLike(inputSize);
  await measure(backend, 'small MobileNet-like', model, masks);
  model.dispose();
}
// A real model on wasm (cpu would take minutes): nsfwjs's MobileNetV2, 224×224.
if (inputSize === 224) {
  await tf.setBackend('wasm');
  const mobileNetV2 = await loadMobileNetV2();
  await measure('wasm', 'MobileNetV2 (nsfwjs)', mobileNetV2, 64);
  mobileNetV2.dispose();
}
