/**
 * Evaluation metrics on real MNIST digits: saliency, the signed gradient, integrated gradients and a
 * random attribution of the demo's small CNN, compared by deletion / insertion AUC (RISE), infidelity
 * (Yeh et al.) under Gaussian noise and under square occlusions, and max-sensitivity. Prints a table
 * and writes it to examples/output/metrics.md.
 *
 *   npx tsx examples/metrics.ts [--backend cpu|wasm]     (default wasm)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  deletionInsertion,
  infidelity,
  integratedGradients,
  saliency,
  sensitivityMax,
  type InfidelityPerturbation,
} from '../src/index';
import { deriveSeed, mulberry32 } from '../src/core/seeded-random';
import { MNIST_SIZE } from './data/mnist';
import { trainedMnistCnn } from './mnist-cnn';

const OUTPUT = join('examples', 'output');
const CACHE = join('examples', '.cache', 'mnist-cnn');
const DIGITS = 16;

/** An attribution method under test; `random` has no meaningful sensitivity (it ignores x). */
interface Method {
  name: string;
  explain: (model: tfl.LayersModel, x: tf.Tensor, target: number[]) => Promise<tf.Tensor>;
  random?: boolean;
}

const METHODS: Method[] = [
  { name: 'saliency, abs(∂f/∂x)', explain: (m, x, target) => saliency(m, x, { target }) },
  { name: 'gradient ∂f/∂x, signed', explain: (m, x, target) => saliency(m, x, { target, abs: false }) },
  { name: 'integrated gradients (64 steps)', explain: (m, x, target) => integratedGradients(m, x, { target, steps: 64, batchSize: 256 }) },
  { name: 'random U[0, 1)', explain: async (_m, x) => tf.randomUniform(x.shape, 0, 1, 'float32', 7), random: true },
];

/**
 * Yeh et al.'s "Square" perturbation: per sample and digit, a random square of side 4–10 set to black,
 * with the binary mask as `I` (so `IᵀΦ` is the attribution inside the square, Captum's convention for
 * attributions that include the input).
 */
const squares: InfidelityPerturbation = (x, sample) => {
  const [n, h, w] = x.shape;
  const mask = new Float32Array(x.size);
  for (let e = 0; e < n; e++) {
    const random = mulberry32(deriveSeed(11, sample, e));
    const side = 4 + Math.floor(random() * 7);
    const [top, left] = [Math.floor(random() * (h - side + 1)), Math.floor(random() * (w - side + 1))];
    for (let i = top; i < top + side; i++) for (let j = left; j < left + side; j++) mask[(e * h + i) * w + j] = 1;
  }
  return tf.tidy(() => {
    const perturbation = tf.tensor(mask, x.shape);
    return { perturbation, perturbed: tf.mul(x, tf.sub(1, perturbation)) };
  });
};

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] ? process.argv[index + 1] : fallback;
}

/** Mean ± standard deviation of a per-digit score tensor (disposed). */
async function summary(values: tf.Tensor, digits = 3): Promise<string> {
  const data = Array.from(await values.data());
  values.dispose();
  const mean = data.reduce((a, b) => a + b, 0) / data.length;
  const sd = Math.sqrt(data.reduce((a, b) => a + (b - mean) ** 2, 0) / (data.length - 1));
  const format = (v: number) => (Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(digits) : v.toExponential(1));
  return `${format(mean)} ± ${format(sd)}`;
}

async function main(): Promise<void> {
  await tf.setBackend(argument('backend', 'wasm'));
  console.log(`tfjs backend: ${tf.getBackend()}`);
  const { model, accuracy, test } = await trainedMnistCnn(CACHE);
  console.log(`test accuracy: ${(100 * accuracy).toFixed(1)}%`);
  const x = tf.slice(test.x, 0, DIGITS);
  const target = Array.from(await test.y.data()).slice(0, DIGITS);

  const header = [
    'method',
    'deletion AUC ↓',
    'insertion AUC ↑',
    'infidelity, noise σ 0.1 ↓',
    'infidelity, squares ↓',
    'max-sensitivity ↓',
    'time (map + metrics)',
  ];
  const rows: string[][] = [];
  for (const method of METHODS) {
    const started = performance.now();
    const map = await method.explain(model, x, target);
    // RISE's protocol: softmax probability, one image row (28 pixels) per step, deletion to black,
    // insertion from the blurred digit.
    const curves = await deletionInsertion(model, x, map, { target, curveSteps: MNIST_SIZE, score: 'softmax', batchSize: 512 });
    const noise = await infidelity(model, x, map, { target, samples: 100, normalize: true, seed: 1, batchSize: 512 });
    const square = await infidelity(model, x, map, { target, samples: 100, normalize: true, perturbation: squares, batchSize: 512 });
    const sensitivity = method.random
      ? null
      : await sensitivityMax((v) => method.explain(model, v, target), x, { radius: 0.02, samples: 10, seed: 1 });
    const seconds = (performance.now() - started) / 1000;
    map.dispose();
    curves.deletionCurve.dispose();
    curves.insertionCurve.dispose();
    rows.push([
      method.name,
      await summary(curves.deletion),
      await summary(curves.insertion),
      await summary(noise),
      await summary(square),
      sensitivity ? await summary(sensitivity) : '— (ignores x)',
      `${seconds.toFixed(1)} s`,
    ]);
    console.log(rows.at(-1)!.join(' | '));
  }
  const table = [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
  const text =
    `${DIGITS} MNIST test digits, the demo's CNN (test accuracy ${(100 * accuracy).toFixed(1)}%), each explained for its ` +
    `true class on the tfjs \`${tf.getBackend()}\` backend; mean ± standard deviation over the digits. Deletion / insertion: ` +
    `softmax probability, ${MNIST_SIZE} steps of ${MNIST_SIZE} pixels, deletion to black, insertion from the blurred digit. ` +
    'Infidelity: logit, 100 perturbations, normalised by the best β. Max-sensitivity: r = 0.02, 10 samples.' +
    `\n\n${table}\n`;
  mkdirSync(OUTPUT, { recursive: true });
  writeFileSync(join(OUTPUT, 'metrics.md'), text);
  console.log(`\n${text}\nwrote ${join(OUTPUT, 'metrics.md')}`);
  x.dispose();
  test.x.dispose();
  test.y.dispose();
  model.dispose();
}

await main();
