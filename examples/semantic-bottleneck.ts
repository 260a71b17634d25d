/**
 * SemanticBottleneck on colourised MNIST (real digits from the `mnist` package, see
 * examples/data/coloured-mnist.ts): a small CNN classifies the digit; a copy of it gets a semantic
 * bottleneck of 19 concept channels (digit, stroke colour, background colour, stroke/background)
 * after its fifth convolution, supervised with `conceptLoss` next to the task loss. We compare task
 * accuracy and the inspectability (AUiC) of the bottleneck with that of the baseline's fifth
 * convolution (the layer at the same depth). Stage 2 freezes both networks up to that layer and trains a
 * fresh head on it for the task (Losch et al. likewise fine-tune the layers above a bottleneck).
 *
 *   npx tsx examples/semantic-bottleneck.ts [trainPerClass=200] [testPerClass=300] [epochs=14]
 *
 * Runs on the wasm backend (conv2d filter gradients from the package's backend-gap fixes); a few
 * minutes on 2 CPU cores. Results are written to examples/output/semantic-bottleneck.json.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import { mkdirSync, writeFileSync } from 'node:fs';
import { conceptLoss, inspectability, type InspectabilityThreshold, layers } from '../src/index';
import { withBackendGapFixes } from '../src/core/backend-gaps';
import { CONCEPT_GROUPS, CONCEPT_NAMES, conceptMasks, loadColouredMnist } from './data/coloured-mnist';

const [trainPerClass = 200, testPerClass = 300, epochs = 14] = process.argv.slice(2).map(Number);
const RESOLUTION = 7; // spatial size after two 2×2 poolings
const HEAD_EPOCHS = 20;
const SEED = 1;

await tf.setBackend('wasm');
tf.util.assert(tf.getBackend() === 'wasm', () => 'wasm backend unavailable');
const started = Date.now();
const { train, test } = loadColouredMnist(trainPerClass, testPerClass, SEED);
const tensors = (set: typeof train) => ({
  x: tf.tensor4d(set.images, [set.count, 28, 28, 3]),
  y: tf.cast(tf.oneHot(tf.tensor1d(set.digits, 'int32'), 10), 'float32'),
  concepts: tf.tensor4d(conceptMasks(set, RESOLUTION), [set.count, RESOLUTION, RESOLUTION, CONCEPT_NAMES.length]),
});
const trainData = tensors(train);
const testData = tensors(test);

/** conv(8) → pool → conv(16) → pool → 3 × conv(32) [→ bottleneck] → flatten → dense(64) → dense(10). */
function network(withBottleneck: boolean, seed: number): { model: tfl.LayersModel; probe: tfl.SymbolicTensor } {
  let k = 0;
  const init = () => tfl.initializers.glorotUniform({ seed: seed * 100 + k++ });
  const conv = (filters: number) => tfl.layers.conv2d({ filters, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init() });
  const input = tfl.input({ shape: [28, 28, 3] });
  let h = conv(8).apply(input) as tfl.SymbolicTensor;
  h = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tfl.SymbolicTensor;
  h = conv(16).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tfl.SymbolicTensor;
  for (let i = 0; i < 3; i++) h = conv(32).apply(h) as tfl.SymbolicTensor; // receptive field 31 px: the whole digit
  let probe = h;
  if (withBottleneck) {
    probe = layers.semanticBottleneck({ concepts: CONCEPT_GROUPS, name: 'concepts' }).apply(h) as tfl.SymbolicTensor;
    h = probe;
  }
  h = tfl.layers.flatten().apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.dense({ units: 64, activation: 'relu', kernelInitializer: init() }).apply(h) as tfl.SymbolicTensor;
  const task = tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(), name: 'task' }).apply(h) as tfl.SymbolicTensor;
  return { model: tfl.model({ inputs: input, outputs: withBottleneck ? [task, probe] : task }), probe };
}

async function accuracyOf(predictions: tf.Tensor): Promise<number> {
  const correct = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(predictions, 1), tf.argMax(testData.y, 1)), 'float32')));
  const value = (await correct.data())[0];
  tf.dispose([predictions, correct]);
  return value;
}

/** Test accuracy of the whole network. */
async function accuracy(model: tfl.LayersModel): Promise<number> {
  const out = model.predict(testData.x, { batchSize: 256 });
  if (Array.isArray(out)) out[1].dispose();
  return accuracyOf(Array.isArray(out) ? out[0] : out);
}

/**
 * Stage 2 (as Losch et al. fine-tune the layers above a bottleneck): freeze everything up to the probed
 * layer and train a fresh flatten → dense(64) → dense(10) head on its outputs for the task.
 */
async function retrainedHeadAccuracy(model: tfl.LayersModel, probe: tfl.SymbolicTensor, seed: number): Promise<number> {
  const frozen = tfl.model({ inputs: model.inputs, outputs: probe });
  const [trainFeatures, testFeatures] = [frozen.predict(trainData.x, { batchSize: 256 }) as tf.Tensor, frozen.predict(testData.x, { batchSize: 256 }) as tf.Tensor];
  const head = tfl.sequential({
    layers: [
      tfl.layers.flatten({ inputShape: probe.shape.slice(1) as number[] }),
      tfl.layers.dense({ units: 64, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed }) }),
      tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
  head.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  await head.fit(trainFeatures, trainData.y, { epochs: HEAD_EPOCHS, batchSize: 32, shuffle: true, verbose: 0 });
  const value = await accuracyOf(head.predict(testFeatures) as tf.Tensor);
  tf.dispose([trainFeatures, testFeatures]);
  head.dispose();
  return value;
}

/** AUiC of the probed layer on the test set for several thresholds. */
async function auic(model: tfl.LayersModel, probe: tfl.SymbolicTensor, thresholds: InspectabilityThreshold[]) {
  const probeModel = tfl.model({ inputs: model.inputs, outputs: probe });
  const activations = probeModel.predict(testData.x, { batchSize: 256 }) as tf.Tensor;
  const results = [];
  for (const threshold of thresholds) {
    const r = await inspectability(activations, testData.concepts, { threshold, conceptNames: CONCEPT_NAMES });
    results.push({ threshold, auic: r.auic, matches: r.matches.map((m) => ({ name: m.name, channel: m.channel, iou: +m.iou.toFixed(3) })) });
  }
  activations.dispose();
  return results;
}

const fitArgs = { epochs, batchSize: 32, shuffle: true, verbose: 0 as const };
const thresholds: InspectabilityThreshold[] = [0.5, ...[0.5, 0.8, 0.9, 0.95, 0.99, 0.995].map((quantile) => ({ quantile }))];

const baseline = network(false, SEED);
baseline.model.compile({ optimizer: tf.train.adam(3e-3), loss: 'categoricalCrossentropy' });
await withBackendGapFixes(() => baseline.model.fit(trainData.x, trainData.y, fitArgs), { zeroFilterGradients: false });
const baselineAccuracy = await accuracy(baseline.model);
const baselineHeadAccuracy = await retrainedHeadAccuracy(baseline.model, baseline.probe, 500);
const baselineAuic = await auic(baseline.model, baseline.probe, thresholds);
console.log(`baseline: accuracy ${(100 * baselineAccuracy).toFixed(2)}% end to end, ${(100 * baselineHeadAccuracy).toFixed(2)}% with a retrained head`);

const bottleneck = network(true, SEED);
bottleneck.model.compile({
  optimizer: tf.train.adam(3e-3),
  loss: [(t: tf.Tensor, p: tf.Tensor) => tfl.metrics.categoricalCrossentropy(t, p), conceptLoss(CONCEPT_GROUPS)],
});
await withBackendGapFixes(() => bottleneck.model.fit(trainData.x, [trainData.y, trainData.concepts], fitArgs), { zeroFilterGradients: false });
const bottleneckAccuracy = await accuracy(bottleneck.model);
const bottleneckHeadAccuracy = await retrainedHeadAccuracy(bottleneck.model, bottleneck.probe, 500);
const bottleneckAuic = await auic(bottleneck.model, bottleneck.probe, thresholds);
console.log(`bottleneck: accuracy ${(100 * bottleneckAccuracy).toFixed(2)}% end to end, ${(100 * bottleneckHeadAccuracy).toFixed(2)}% with a retrained head`);

const best = (rs: { auic: number }[]) => Math.max(...rs.map((r) => r.auic));
const describe = (t: InspectabilityThreshold) => (typeof t === 'number' ? `> ${t}` : `top ${(100 * (1 - t.quantile)).toFixed(1)}%`);
console.log('AUiC by threshold     baseline conv5 (32 ch)   bottleneck (19 ch)');
thresholds.forEach((t, i) => console.log(`${describe(t).padEnd(20)}  ${baselineAuic[i].auic.toFixed(3).padStart(10)}   ${bottleneckAuic[i].auic.toFixed(3).padStart(18)}`));
console.log(`best: baseline ${best(baselineAuic).toFixed(3)}, bottleneck at its default threshold 0.5 ${bottleneckAuic[0].auic.toFixed(3)} ` +
  `(${(bottleneckAuic[0].auic / best(baselineAuic)).toFixed(1)}×)`);
console.log('bottleneck matches (threshold 0.5):', bottleneckAuic[0].matches.map((m) => `${m.name}→${m.channel} ${m.iou}`).join(', '));
const seconds = (Date.now() - started) / 1000;
console.log(`total ${seconds.toFixed(0)} s`);

mkdirSync('examples/output', { recursive: true });
writeFileSync('examples/output/semantic-bottleneck.json', JSON.stringify({
  config: { trainPerClass, testPerClass, epochs, headEpochs: HEAD_EPOCHS, batchSize: 32, learningRate: 3e-3, resolution: RESOLUTION, backend: tf.getBackend() },
  baseline: { accuracy: baselineAccuracy, retrainedHeadAccuracy: baselineHeadAccuracy, auic: baselineAuic },
  bottleneck: { accuracy: bottleneckAccuracy, retrainedHeadAccuracy: bottleneckHeadAccuracy, auic: bottleneckAuic },
  seconds,
}, null, 2));
