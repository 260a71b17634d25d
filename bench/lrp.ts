/**
 * LRP's cost per composite relative to one saliency map (a forward and a backward pass): the CPU time
 * of `lrp` divided by that of `saliency` on the same image (medians, interleaved; see bench/timing.ts).
 * Every rule needs the forward pass plus, per linear layer, its modified forward passes and one
 * vector–Jacobian product per rule branch: Epsilon 0 + 1, ZPlus 1 + 1 (2 + 2 on a signed input),
 * AlphaBeta 1 + 2 (2 + 4 on a signed input), Gamma 1 + 2, Flat 1 + 1, ZBox 2 + 3. The aim: every
 * composite within 2× saliency. Three parts:
 *
 * 1. the pretrained nsfwjs LayersModels, MobileNetV2 on one 224×224 image and InceptionV3 on one
 *    299×299 image, on wasm and cpu: every built-in composite;
 * 2. the converted GraphModels of the tests on wasm: human's emotion model (a batch of 64×64 faces)
 *    and nsfwjs's MobileNetV2 (`mobilenet_v2_mid`, one 224×224 image);
 * 3. why AlphaBeta(2, 1) does not conserve relevance on MobileNetV2 (nsfwjs's Keras model, biases and
 *    BatchNorm shifts zeroed, the anatomy drawing): per linear layer, the relevance of the neurons
 *    with no negative contributions (z_β = 0, which send α·R down) and with no positive ones
 *    (z_α = 0, −β·R); their sum Σ_layers [R(z_β = 0) − 2·R(z_α = 0)] accounts for Σ R_input − logit.
 *
 *   npx tsx bench/lrp.ts [repeats=3] [backends=wasm,cpu] [models=mobilenet-v2,inception-v3] [parts=1,2,3]
 *
 * InceptionV3 on cpu (tens of seconds per saliency map) runs one round without a warm-up round.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfc from '@tensorflow/tfjs-converter';
import type * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { compileProgram } from '../src/attribution/lrp/graph';
import { forwardValues, propagateRelevance } from '../src/attribution/lrp/propagate';
import { COMPOSITE_NAMES, composites, lrp, saliency, type LrpOptions } from '../src/index';
import { withBackendGapFixesSync } from '../src/advanced';
import { loadHumanGraphModel, loadInceptionV3, loadMobileNetV2, loadMobileNetV2GraphModel } from '../examples/models/pretrained';
import { loadAnatomyDrawing } from '../examples/support/anatomy-drawing';
import { interleavedMedians } from './timing';

const repeats = Number(process.argv[2] ?? 3);
const backends = (process.argv[3] ?? 'wasm,cpu').split(',');
const models = (process.argv[4] ?? 'mobilenet-v2,inception-v3').split(',');
const parts = (process.argv[5] ?? '1,2,3').split(',').map(Number);

/** `saliency` and every composite in `names` on `x` (one image, batch 1), timed round-robin; prints each lrp / saliency. */
async function ratios(
  label: string,
  model: tfl.LayersModel | tfc.GraphModel,
  x: tf.Tensor,
  names: readonly (typeof COMPOSITE_NAMES)[number][],
  bounds: { low: number; high: number },
  slow = false,
): Promise<void> {
  const base = { target: 0, batchSize: x.shape[0] };
  const runs: Record<string, () => Promise<tf.Tensor>> = { saliency: () => saliency(model, x, base) };
  for (const composite of names) {
    const options: LrpOptions = { ...base, composite, ...(composite === 'epsilon-gamma-box' ? bounds : {}) };
    runs[composite] = () => lrp(model, x, options);
  }
  const timings = slow ? await interleavedMedians(runs, 1, false) : await interleavedMedians(runs, repeats);
  const { cpuMs, wallMs } = timings.saliency;
  console.log(`  ${label}: saliency ${cpuMs.toFixed(0)} ms CPU (${wallMs.toFixed(0)} ms wall)`);
  for (const composite of names) {
    const t = timings[composite];
    console.log(
      `    ${composite.padEnd(26)} lrp / saliency ${(t.cpuMs / cpuMs).toFixed(2).padStart(5)} CPU, ${(t.wallMs / wallMs).toFixed(2).padStart(5)} wall, ` +
        `${(t.cpuMinMs / timings.saliency.cpuMinMs).toFixed(2).padStart(5)} least CPU   (${t.cpuMs.toFixed(0)} ms CPU)`,
    );
  }
}

if (parts.includes(1)) {
  console.log(`1. pretrained LayersModels, one image, CPU-time medians of ${repeats}`);
  const catalogue = {
    'mobilenet-v2': { load: loadMobileNetV2, size: 224 },
    'inception-v3': { load: loadInceptionV3, size: 299 },
  } as const;
  for (const backend of backends) {
    await tf.setBackend(backend);
    await tf.ready();
    for (const name of models as (keyof typeof catalogue)[]) {
      const { load, size } = catalogue[name];
      const model = await load();
      const x = tf.randomUniform([1, size, size, 3], 0, 1, 'float32', 8);
      const slow = backend === 'cpu' && name === 'inception-v3';
      await ratios(`${backend} ${name} ${size}×${size}${slow ? ' (one round)' : ''}`, model, x, COMPOSITE_NAMES, { low: 0, high: 1 }, slow);
      x.dispose();
      model.dispose();
    }
  }
}

if (parts.includes(2)) {
  console.log('\n2. converted GraphModels on wasm');
  await tf.setBackend('wasm');
  for (const [name, load, shape, bounds] of [
    ['emotion (human)', () => loadHumanGraphModel('emotion'), [8, 64, 64, 1], { low: 0, high: 1 }],
    ['mobilenet_v2_mid (nsfwjs)', () => loadMobileNetV2GraphModel(), [1, 224, 224, 3], { low: -1, high: 1 }],
  ] as const) {
    const model = await load();
    const x = tf.randomUniform([...shape], 0, 1, 'float32', 8);
    await ratios(`${name}: batch ${shape[0]} of ${shape.slice(1).join('×')}`, model, x, ['epsilon', 'epsilon-plus-flat', 'epsilon-alpha2-beta1-flat', 'epsilon-gamma-box'], bounds);
    x.dispose();
    model.dispose();
  }
}

if (parts.includes(3)) {
  console.log('\n3. AlphaBeta(2, 1) on MobileNetV2 without biases: where relevance is created (wasm)');
  await tf.setBackend('wasm');
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
      // propagateRelevance consumes `values`: keep each linear step's input.
      const layerInputs = linear.map((s) => tf.clone(values[s.inputs[0]]!));
      const relevance = propagateRelevance(program, values, start, [...linear.map((s) => s.output), ...program.inputs]);
      const positive = (t: tf.Tensor) => tf.relu(t);
      const negative = (t: tf.Tensor) => tf.minimum(t, 0);
      const perLayer = linear.map((step, k) => {
        const a = layerInputs[k];
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
