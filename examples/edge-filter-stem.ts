/**
 * EdgeFilterStem experiments (Jung & Kwon 2020), run with `npx tsx examples/edge-filter-stem.ts [seeds]`:
 *
 * 1. Accuracy: a small CNN whose first layer is the fixed stem vs the same CNN whose first layer is a
 *    learned 3×3 convolution of the same shape (1 → 6 channels, no bias; with one input
 *    channel that is a learned depthwise bank), on real MNIST digits (the
 *    `mnist` package: 600 training and 250 test digits per class), `seeds` runs each (default 2).
 * 2. Scores: on the synthetic colour/orientation set, the colour scores of a stem model trained to tell
 *    the stripe colour, and the sobel-x / sobel-y scores of one trained to tell the stripe orientation.
 *    Relevance at the stem output: LRP (composite 'epsilon-plus') from the true class's logit, taken at
 *    the stem's output (`relevanceAt`), then summed by `stemScoresFromRelevance`.
 *
 * Trains on the wasm backend (see support/train.ts). Results go to
 * examples/output/edge-filter-stem/ (results.json, results.md) and to the console.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-wasm';
import { mkdirSync, writeFileSync } from 'node:fs';
import { EdgeFilterStem, layers, lrp, stemScoresFromRelevance } from '../src/index';
import { COLOUR_CLASSES, colourOrientationSet, type ColourOrientationTask, ORIENTATION_CLASSES } from './data/colour-orientation';
import { loadMnist, MNIST_SIZE } from './data/mnist';
import { testAccuracy, trainClassifier } from './support/train';

const OUT = 'examples/output/edge-filter-stem';
const seeds = Number(process.argv[2] ?? 2);

/** conv(8) → pool → conv(16) → pool → dense(classes) logits on top of `first`. */
function cnn(first: tfl.layers.Layer, classes: number, seed: number, pooling: 'flatten' | 'gap'): tfl.Sequential {
  const init = (k: number) => tfl.initializers.glorotUniform({ seed: seed * 10 + k });
  return tfl.sequential({
    layers: [
      first,
      tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1) }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(2) }),
      pooling === 'gap' ? tfl.layers.globalAveragePooling2d({}) : tfl.layers.maxPooling2d({ poolSize: 2 }),
      ...(pooling === 'flatten' ? [tfl.layers.flatten()] : []),
      tfl.layers.dense({ units: classes, kernelInitializer: init(3) }),
    ],
  });
}

/** Trains `model` (logits) for `epochs`; returns its test accuracy. */
async function trainAndTest(model: tfl.Sequential, train: [tf.Tensor, tf.Tensor], test: [tf.Tensor, tf.Tensor], epochs: number): Promise<number> {
  await trainClassifier(model, train, { epochs });
  return testAccuracy(model, test);
}

async function mnistAccuracy(): Promise<{ stem: number[]; learned: number[]; train: number; test: number }> {
  const { train, test } = loadMnist(600, 250, 1);
  const tensors = (set: typeof train): [tf.Tensor, tf.Tensor] => [
    tf.tensor4d(set.images, [set.count, MNIST_SIZE, MNIST_SIZE, 1]),
    tf.oneHot(tf.tensor1d(set.labels, 'int32'), 10),
  ];
  const [trainSet, testSet] = [tensors(train), tensors(test)];
  const result = { stem: [] as number[], learned: [] as number[], train: train.count, test: test.count };
  for (let seed = 1; seed <= seeds; seed++) {
    for (const kind of ['stem', 'learned'] as const) {
      const started = Date.now();
      const first =
        kind === 'stem'
          ? layers.edgeFilterStem({ inputShape: [MNIST_SIZE, MNIST_SIZE, 1] })
          : tfl.layers.conv2d({
              inputShape: [MNIST_SIZE, MNIST_SIZE, 1],
              filters: 6,
              kernelSize: 3,
              padding: 'same',
              useBias: false,
              kernelInitializer: tfl.initializers.glorotUniform({ seed }),
            });
      const model = cnn(first, 10, seed, 'flatten');
      const accuracy = await trainAndTest(model, trainSet, testSet, 4);
      result[kind].push(accuracy);
      console.log(`MNIST seed ${seed} ${kind.padEnd(7)}: test accuracy ${(100 * accuracy).toFixed(2)}% (${((Date.now() - started) / 1000).toFixed(0)} s)`);
      model.dispose();
    }
  }
  tf.dispose([...trainSet, ...testSet]);
  return result;
}

interface TaskScores {
  task: ColourOrientationTask;
  accuracy: number;
  classes: readonly string[];
  /** Per true class: share of the summed relevance per colour and per filter (ratio of sums). */
  colourShare: number[][];
  filterShare: number[][];
  /** Per true class: fraction of test images whose top colour score is the deciding channel / sobel-x beats sobel-y. */
  topColourIsDeciding: number[];
  sobelXAboveSobelY: number[];
  /** Largest |Σ colour − Σ R|, |Σ filter − Σ R|, |Σ pixel − Σ R| relative to mean |Σ R|. */
  conservationError: number;
}

async function taskScores(task: ColourOrientationTask): Promise<TaskScores> {
  const size = 16;
  const train = colourOrientationSet(task, 1500, size, 11);
  const test = colourOrientationSet(task, 500, size, 12);
  const classes = task === 'colour' ? COLOUR_CLASSES : ORIENTATION_CLASSES;
  const k = classes.length;
  const asTensors = (set: typeof train): [tf.Tensor, tf.Tensor] => [
    tf.tensor4d(set.images, [set.count, size, size, 3]),
    tf.oneHot(tf.tensor1d(set.labels, 'int32'), k),
  ];
  const [trainSet, testSet] = [asTensors(train), asTensors(test)];
  const stem = layers.edgeFilterStem({ inputShape: [size, size, 3], name: 'stem' });
  const model = cnn(stem, k, 3, 'gap');
  const accuracy = await trainAndTest(model, trainSet, testSet, 5);

  // LRP (epsilon-plus: ZPlus on the convs, Epsilon on the dense layer) from the true class's logit to
  // the stem output, kept here to check conservation against Σ R; stemScores(model, x, options) is
  // the one-call form of these two lines.
  const relevance = await lrp(model, testSet[0], {
    target: Array.from(test.labels),
    composite: 'epsilon-plus',
    layer: stem.name,
  });
  const { colour, filter, pixel } = stemScoresFromRelevance(relevance, stem as EdgeFilterStem);
  const [c, f, p, r] = await Promise.all([colour.data(), filter.data(), pixel.data(), tf.tidy(() => tf.sum(relevance, [1, 2, 3])).data()]);
  const nf = stem.filterCount;
  const hw = size * size;
  const sum = (v: ArrayLike<number>, n: number, width: number) => Array.from({ length: width }, (_, i) => v[n * width + i]).reduce((a, b) => a + b, 0);
  let conservation = 0;
  for (let n = 0; n < test.count; n++) {
    conservation = Math.max(conservation, Math.abs(sum(c, n, 3) - r[n]), Math.abs(sum(f, n, nf) - r[n]), Math.abs(sum(p, n, hw) - r[n]));
  }
  const meanAbsTotal = Array.from(r).reduce((a, b) => a + Math.abs(b), 0) / test.count;
  const [sobelX, sobelY] = [stem.filterLabels.indexOf('sobel-x'), stem.filterLabels.indexOf('sobel-y')];
  const colourShare: number[][] = [];
  const filterShare: number[][] = [];
  const topColourIsDeciding: number[] = [];
  const sobelXAboveSobelY: number[] = [];
  for (let cls = 0; cls < k; cls++) {
    const members = Array.from({ length: test.count }, (_, n) => n).filter((n) => test.labels[n] === cls);
    const total = members.reduce((a, n) => a + r[n], 0);
    colourShare.push([0, 1, 2].map((ch) => members.reduce((a, n) => a + c[n * 3 + ch], 0) / total));
    filterShare.push(stem.filterLabels.map((_, j) => members.reduce((a, n) => a + f[n * nf + j], 0) / total));
    topColourIsDeciding.push(
      members.filter((n) => {
        const scores = [c[n * 3], c[n * 3 + 1], c[n * 3 + 2]];
        return scores.indexOf(Math.max(...scores)) === test.channels[n];
      }).length / members.length,
    );
    sobelXAboveSobelY.push(members.filter((n) => f[n * nf + sobelX] > f[n * nf + sobelY]).length / members.length);
  }
  tf.dispose([...trainSet, ...testSet, relevance, colour, filter, pixel]);
  model.dispose();
  return { task, accuracy, classes, colourShare, filterShare, topColourIsDeciding, sobelXAboveSobelY, conservationError: conservation / meanAbsTotal };
}

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

await tf.setBackend('wasm');
const started = Date.now();
const mnist = await mnistAccuracy();
const colourTask = await taskScores('colour');
const orientationTask = await taskScores('orientation');
const filterLabels = new EdgeFilterStem().filterLabels;

const md: string[] = [];
md.push(`MNIST (\`mnist\` package, ${mnist.train} training / ${mnist.test} test digits, 4 epochs, ${seeds} seed(s)):`, '');
md.push('| first layer | test accuracy per seed | mean |', '|---|---|---|');
md.push(`| EdgeFilterStem (fixed, 6 filters) | ${mnist.stem.map(pct).join(', ')} | ${pct(mean(mnist.stem))} |`);
md.push(`| learned 3×3 conv, 1 → 6, no bias | ${mnist.learned.map(pct).join(', ')} | ${pct(mean(mnist.learned))} |`);
md.push('', `Difference (stem − learned): ${(100 * (mean(mnist.stem) - mean(mnist.learned))).toFixed(2)} points.`, '');
md.push(`Colour task (test accuracy ${pct(colourTask.accuracy)}): share of relevance per colour, by true class`, '');
md.push('| true class | red | green | blue | top colour score = deciding channel |', '|---|---|---|---|---|');
colourTask.classes.forEach((name, i) => md.push(`| ${name} | ${colourTask.colourShare[i].map(pct).join(' | ')} | ${pct(colourTask.topColourIsDeciding[i])} |`));
md.push('', `Orientation task (test accuracy ${pct(orientationTask.accuracy)}): share of relevance per filter, by true class`, '');
md.push(`| true class | ${filterLabels.join(' | ')} | sobel-x > sobel-y |`, `|---|${filterLabels.map(() => '---|').join('')}---|`);
orientationTask.classes.forEach((name, i) =>
  md.push(`| ${name} | ${orientationTask.filterShare[i].map(pct).join(' | ')} | ${pct(orientationTask.sobelXAboveSobelY[i])} |`),
);
md.push(
  '',
  `Conservation (largest |Σ colour − ΣR|, |Σ filter − ΣR|, |Σ pixel − ΣR| over test images, relative to mean |ΣR|): ` +
    `colour task ${colourTask.conservationError.toExponential(1)}, orientation task ${orientationTask.conservationError.toExponential(1)}.`,
);
md.push('', `Total time ${((Date.now() - started) / 1000).toFixed(0)} s on the wasm backend.`);
console.log(`\n${md.join('\n')}`);
mkdirSync(OUT, { recursive: true });
writeFileSync(`${OUT}/results.md`, `${md.join('\n')}\n`);
writeFileSync(`${OUT}/results.json`, JSON.stringify({ mnist, colourTask, orientationTask }, null, 2));
