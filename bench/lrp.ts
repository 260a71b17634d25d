/**
 * LRP's cost per composite relative to one saliency map (a forward and a backward pass): the time of
 * `lrp` divided by the time of `saliency` on the same batch. Every rule needs the forward pass plus,
 * per linear layer, one vector–Jacobian product per rule branch (Epsilon 1, ZPlus 2, Flat 1, Gamma 4,
 * AlphaBeta 4, ZBox 3), so the aim is under 2× for 'epsilon'. Three parts:
 *
 * 1. a small VGG-like conv net with BatchNorm (conv → BN → ReLU ×2, max pooling, ×2 stages, dense 64 →
 *    ReLU → dense 10), random weights, on cpu and wasm;
 * 2. the converted GraphModels of the tests at full size on wasm: human's emotion model (a batch of
 *    64×64 faces) and nsfwjs's MobileNetV2 (`mobilenet_v2_mid`, one 224×224 image);
 * 3. why AlphaBeta(2, 1) does not conserve relevance on MobileNetV2 (nsfwjs's Keras model, biases and
 *    BatchNorm shifts zeroed, the anatomy drawing): per linear layer, the relevance of the neurons
 *    with no negative contributions (z_β = 0, which send α·R down) and with no positive ones
 *    (z_α = 0, −β·R); their sum Σ_layers [R(z_β = 0) − 2·R(z_α = 0)] accounts for Σ R_input − logit.
 *
 *   npx tsx bench/lrp.ts [inputSize=32] [batchSize=16] [repeats=3]
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { compileProgram } from '../src/attribution/lrp/graph';
import { forwardValues, propagateRelevance } from '../src/attribution/lrp/propagate';
import { COMPOSITE_NAMES, composites, lrp, saliency, type LrpOptions } from '../src/index';
import { withBackendGapFixesSync } from '../src/advanced';
import { loadHumanGraphModel, loadMobileNetV2, loadMobileNetV2GraphModel } from '../examples/models/pretrained';
import { loadAnatomyDrawing } from '../examples/support/anatomy-drawing';
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

console.log('1. small conv net with BatchNorm');
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

console.log('\n2. converted GraphModels on wasm');
await tf.setBackend('wasm');
for (const [name, load, shape, bounds] of [
  ['emotion (human)', () => loadHumanGraphModel('emotion'), [8, 64, 64, 1], { low: 0, high: 1 }],
  ['mobilenet_v2_mid (nsfwjs)', () => loadMobileNetV2GraphModel(), [1, 224, 224, 3], { low: -1, high: 1 }],
] as const) {
  const model = await load();
  const x = tf.randomUniform([...shape], 0, 1, 'float32', 8);
  const base = { target: 0, batchSize: shape[0] };
  const saliencyMs = await medianMs(() => saliency(model, x, base));
  console.log(`  ${name}: batch ${shape[0]} of ${shape.slice(1).join('×')}, saliency ${saliencyMs.toFixed(0)} ms`);
  for (const composite of ['epsilon', 'epsilon-plus-flat', 'epsilon-alpha2-beta1-flat', 'epsilon-gamma-box'] as const) {
    const options: LrpOptions = { ...base, composite, ...(composite === 'epsilon-gamma-box' ? bounds : {}) };
    const lrpMs = await medianMs(() => lrp(model, x, options));
    console.log(`    ${composite.padEnd(26)} lrp ${lrpMs.toFixed(0).padStart(6)} ms   lrp / saliency ${(lrpMs / saliencyMs).toFixed(2)}`);
  }
  x.dispose();
}

console.log('\n3. AlphaBeta(2, 1) on MobileNetV2 without biases: where relevance is created');
{
  const model = await loadMobileNetV2();
  const zeroed = model.weights.map((w) => (/\/(bias|beta|moving_mean)$/.test(w.originalName) ? tf.zerosLike(w.read()) : w.read().clone()));
  model.setWeights(zeroed);
  zeroed.forEach((t) => t.dispose());
  const picture = loadAnatomyDrawing();
  const probabilities = model.predict(picture) as tf.Tensor;
  const target = (await tf.argMax(probabilities, 1).data())[0];
  probabilities.dispose();
  for (const composite of ['alpha2-beta1', 'epsilon-alpha2-beta1', 'zplus', 'epsilon'] as const) {
    const relevance = await lrp(model, picture, { target, composite });
    console.log(`  ${composite.padEnd(22)} Σ R = ${(await tf.sum(relevance).data())[0].toFixed(3)}`);
    relevance.dispose();
  }
  const program = compileProgram(model, { composite: composites.alpha2Beta1(), canonize: true });
  const linear = program.steps.filter((s) => s.parameters !== null);
  const rows = withBackendGapFixesSync(() =>
    tf.tidy(() => {
      const values = forwardValues(program, picture);
      const output = values[program.output];
      const start = tf.mul(tf.oneHot(tf.tensor1d([target], 'int32'), output.shape[1]!), output);
      const relevance = propagateRelevance(program, values, start, [...linear.map((s) => s.output), ...program.inputs]);
      const positive = (t: tf.Tensor) => tf.relu(t);
      const negative = (t: tf.Tensor) => tf.minimum(t, 0);
      const perLayer = linear.map((step, k) => {
        const a = values[step.inputs[0]];
        const { weight, bias } = step.parameters!;
        const z = (u: tf.Tensor, w: tf.Tensor, b: tf.Tensor | null) => step.forward([u], { weight: w, bias: b });
        const zAlpha = tf.add(z(positive(a), positive(weight), bias && positive(bias)), z(negative(a), negative(weight), null));
        const zBeta = tf.add(z(positive(a), negative(weight), bias && negative(bias)), z(negative(a), positive(weight), null));
        const betaZero = tf.cast(tf.equal(zBeta, 0), 'float32');
        const alphaZero = tf.cast(tf.equal(zAlpha, 0), 'float32');
        const r = relevance[k];
        return tf.stack([tf.sum(r), tf.sum(tf.mul(r, betaZero)), tf.sum(tf.mul(r, alphaZero)), tf.mean(betaZero)]);
      });
      return [tf.sum(start), tf.sum(relevance[relevance.length - 1]), ...perLayer];
    }),
  );
  const [logit, inputSum, ...perLayer] = await Promise.all(rows.map((t) => t.data()));
  const groups = new Map<string, { excess: number; layers: number; betaZeroShare: number }>();
  perLayer.forEach((v, k) => {
    const group = linear[k].className;
    const entry = groups.get(group) ?? { excess: 0, layers: 0, betaZeroShare: 0 };
    entry.excess += v[1] - 2 * v[2];
    entry.layers += 1;
    entry.betaZeroShare += v[3];
    groups.set(group, entry);
  });
  console.log(`  logit ${logit[0].toFixed(3)}, Σ R at the input ${inputSum[0].toFixed(3)}: excess ${(inputSum[0] - logit[0]).toFixed(3)}`);
  let total = 0;
  for (const [group, { excess, layers, betaZeroShare }] of groups) {
    total += excess;
    console.log(`  ${group.padEnd(16)} ${String(layers).padStart(2)} layers: Σ [R(z_β = 0) − 2·R(z_α = 0)] = ${excess.toFixed(3).padStart(8)}, mean share of outputs with z_β = 0 ${(betaZeroShare / layers).toFixed(2)}`);
  }
  console.log(`  all layers: ${total.toFixed(3)} (the accounting of the excess above)`);
  rows.forEach((t) => t.dispose());
  program.dispose();
  picture.dispose();
}
