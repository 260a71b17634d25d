/**
 * SpatialShuffle experiment (Fan, Xian, Losch & Schiele 2020), run with `npx tsx examples/spatial-shuffle.ts`:
 * a VGG-style CNN (conv 8-8, pool, 16-16, pool, 32-32, pool, 32-32, global max pool, dense 10; blocks at
 * 28², 14², 7² and 3² like VGG-16's blocks on CIFAR end at 2²) on real MNIST digits (the `mnist`
 * package, grey, 300 training digits per class by default and 250 test digits per class), trained with a `SpatialShuffle` (one
 * permutation per example, seeded) before each of its last k conv layers, k = 0 (baseline), 2, 4, 6
 * and 8 (= the input is shuffled). The shuffles stay on at test time, as in the
 * paper. For comparison, the GAP+FC variant replaces the last k conv layers by global average pooling
 * and dense layers of the same widths ({@link gapFcHead}).
 *
 * Trains on the wasm backend (see support/train.ts). Results go to examples/output/spatial-shuffle/
 * (results.json, results.md) and to the console.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-wasm';
import { mkdirSync, writeFileSync } from 'node:fs';
import { layers } from '../src/index';
import { loadMnist, MNIST_SIZE } from './data/mnist';
import { testAccuracy, trainClassifier } from './support/train';

const OUT = `examples/output/spatial-shuffle${process.argv[2] ? `-${process.argv[2]}-epochs` : ''}${process.argv[4] ? `-${process.argv[4]}-per-class` : ''}`;
const WIDTHS = [8, 8, 16, 16, 32, 32, 32, 32];
/** Indices of the conv layers followed by 2×2 max pooling. */
const POOL_AFTER = new Set([1, 3, 5]);
/**
 * `npx tsx examples/spatial-shuffle.ts [epochs] [variants] [training digits per class]`, variants like
 * `shuffle:0,shuffle:2,gap-fc:2`; at most 613 training digits per class (the package has 863 of the
 * rarest digit, 250 go to the test set).
 */
const EPOCHS = Number(process.argv[2] ?? 3);
const TRAIN_PER_CLASS = Number(process.argv[4] ?? 300);

type Variant = { kind: 'shuffle' | 'gap-fc'; k: number };

/** The VGG-style network with the last `k` conv layers shuffled, or replaced by GAP + dense layers. */
function vgg({ kind, k }: Variant): tfl.Sequential {
  const init = (i: number) => tfl.initializers.heNormal({ seed: 100 + i });
  const model = tfl.sequential();
  model.add(tfl.layers.inputLayer({ inputShape: [MNIST_SIZE, MNIST_SIZE, 1] }));
  const firstAltered = WIDTHS.length - k;
  WIDTHS.forEach((filters, i) => {
    if (kind === 'gap-fc' && i === firstAltered) {
      for (const layer of layers.gapFcHead({ units: WIDTHS.slice(firstAltered) })) model.add(layer);
    }
    if (kind === 'gap-fc' && i >= firstAltered) return;
    if (kind === 'shuffle' && i >= firstAltered) model.add(layers.spatialShuffle({ seed: 7 + i }));
    model.add(tfl.layers.conv2d({ filters, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(i) }));
    if (POOL_AFTER.has(i)) model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  });
  // VGG-16 on 32×32 CIFAR images ends in a 1×1 map before its dense layers; global max pooling plays
  // that role here, so that the classifier itself needs no spatial order.
  if (kind === 'shuffle' || k === 0) model.add(tfl.layers.globalMaxPooling2d({}));
  model.add(tfl.layers.dense({ units: 10, kernelInitializer: init(9) }));
  return model;
}

const ALL_VARIANTS: Variant[] = [
  { kind: 'shuffle', k: 0 },
  { kind: 'shuffle', k: 2 },
  { kind: 'shuffle', k: 4 },
  { kind: 'shuffle', k: 6 },
  { kind: 'shuffle', k: 8 },
  { kind: 'gap-fc', k: 2 },
  { kind: 'gap-fc', k: 4 },
];
const VARIANTS = process.argv[3]
  ? process.argv[3].split(',').map((v) => {
      const [kind, k] = v.split(':');
      if ((kind !== 'shuffle' && kind !== 'gap-fc') || !Number.isInteger(Number(k))) throw new Error(`unknown variant '${v}'`);
      return { kind, k: Number(k) } as Variant;
    })
  : ALL_VARIANTS;

await tf.setBackend('wasm');
const { train, test } = loadMnist(TRAIN_PER_CLASS, 250, 2);
const tensors = (set: typeof train): [tf.Tensor, tf.Tensor] => [
  tf.tensor4d(set.images, [set.count, MNIST_SIZE, MNIST_SIZE, 1]),
  tf.oneHot(tf.tensor1d(set.labels, 'int32'), 10),
];
const [trainSet, testSet] = [tensors(train), tensors(test)];
const layerCount = WIDTHS.length + 1;
const rows: { variant: Variant; resolution: string; accuracy: number; seconds: number }[] = [];
for (const variant of VARIANTS) {
  const started = Date.now();
  const model = vgg(variant);
  await trainClassifier(model, trainSet, { epochs: EPOCHS });
  const accuracy = await testAccuracy(model, testSet);
  const firstAltered = WIDTHS.length - variant.k;
  const side = [...POOL_AFTER].filter((i) => i < firstAltered).reduce((a) => Math.floor(a / 2), MNIST_SIZE);
  const resolution = variant.k === 0 ? '—' : `${side}×${side}`;
  rows.push({ variant, resolution, accuracy, seconds: (Date.now() - started) / 1000 });
  console.log(`${variant.kind} k=${variant.k}: test accuracy ${(100 * accuracy).toFixed(2)}% (${rows.at(-1)?.seconds.toFixed(0)} s)`);
  model.dispose();
}
tf.dispose([...trainSet, ...testSet]);

const baseline = rows[0].accuracy;
const md = [
  `MNIST (\`mnist\` package, grey digits, ${train.count} training / ${test.count} test, ${EPOCHS} epochs, Adam 2e-3, batch 32), ` +
    `VGG-style net of ${layerCount} layers (8 conv + 1 dense after global max pooling); shuffles active at test time:`,
  '',
  `| spatial information removed by | conv layers affected (k) | share of the ${layerCount} layers | at resolution | test accuracy | change |`,
  '|---|---|---|---|---|---|',
  ...rows.map(({ variant, resolution, accuracy }) => {
    const how = variant.k === 0 ? 'nothing (baseline)' : variant.kind === 'shuffle' ? (variant.k === WIDTHS.length ? 'SpatialShuffle at the input' : 'SpatialShuffle') : 'GAP+FC';
    const share = `${Math.round((100 * (variant.k + (variant.k > 0 ? 1 : 0))) / layerCount)}%`;
    const change = variant.k === 0 ? '—' : `${(100 * (accuracy - baseline)).toFixed(2)}`;
    return `| ${how} | ${variant.k} | ${share} | ${resolution} | ${(100 * accuracy).toFixed(2)}% | ${change} |`;
  }),
  '',
  `Total time ${rows.reduce((a, r) => a + r.seconds, 0).toFixed(0)} s on the wasm backend.`,
];
console.log(`\n${md.join('\n')}`);
mkdirSync(OUT, { recursive: true });
writeFileSync(`${OUT}/results.md`, `${md.join('\n')}\n`);
writeFileSync(`${OUT}/results.json`, JSON.stringify(rows, null, 2));
