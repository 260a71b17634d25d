/**
 * LRP's cost per composite relative to one saliency map (a forward and a backward pass): the time of
 * `lrp` divided by the time of `saliency` on the same batch, on tfjs's cpu and wasm backends. Every
 * rule needs the forward pass plus, per linear layer, one vector–Jacobian product per rule branch
 * (Epsilon 1, ZPlus 2, Flat 1, Gamma 4, AlphaBeta 4, ZBox 3), so the aim is under 2× for 'epsilon'.
 *
 *   npx tsx bench/lrp.ts [inputSize=32] [batchSize=16] [repeats=3]
 *
 * The model: a small VGG-like conv net with BatchNorm (conv → BN → ReLU ×2, max pooling, ×2 stages,
 * dense 64 → ReLU → dense 10), random weights.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { COMPOSITE_NAMES, lrp, saliency, type LrpOptions } from '../src/index';
import { vggLike } from './models';

const inputSize = Number(process.argv[2] ?? 32);
const batchSize = Number(process.argv[3] ?? 16);
const repeats = Number(process.argv[4] ?? 3);

/** Median wall time of `repeats` runs (after one warm-up run). */
async function medianMs(run: () => Promise<tf.Tensor>): Promise<number> {
  (await run()).dispose();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    const result = await run();
    await result.data();
    times.push(performance.now() - start);
    result.dispose();
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

for (const backend of ['cpu', 'wasm']) {
  await tf.setBackend(backend);
  await tf.ready();
  const model = vggLike(inputSize);
  const x = tf.randomUniform([batchSize, inputSize, inputSize, 3], -1, 1, 'float32', 7);
  const base = { target: 3, batchSize };
  const saliencyMs = await medianMs(() => saliency(model, x, base));
  console.log(`${backend}: batch ${batchSize} of ${inputSize}×${inputSize}×3, saliency ${saliencyMs.toFixed(0)} ms`);
  for (const composite of COMPOSITE_NAMES) {
    const options: LrpOptions = { ...base, composite, ...(composite === 'epsilon-gamma-box' ? { low: -1, high: 1 } : {}) };
    const lrpMs = await medianMs(() => lrp(model, x, options));
    console.log(`  ${composite.padEnd(26)} lrp ${lrpMs.toFixed(0).padStart(6)} ms   lrp / saliency ${(lrpMs / saliencyMs).toFixed(2)}`);
  }
  x.dispose();
  model.dispose();
}
