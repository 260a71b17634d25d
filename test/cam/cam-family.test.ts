/**
 * The CAM family against plain-JS computations of pytorch-grad-cam's formulas (REFERENCE.md), from the
 * layer's activation A and gradient g obtained independently: A from a sub-model up to the layer, g from
 * tf.grad of the head written out by hand. Also: layers inside nested models, and the default layer.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, describe, expect, it } from 'vitest';
import { eigenCam, gradCam, gradCamPlusPlus, hiResCam, layerCam, scoreCam, xGradCam } from '../../src/index';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak, seededTensor } from '../helpers';
import { setSeededWeights } from '../helpers/models';
import { upsampleAndCrop } from '../perturbation/reference';

const [H, W, C, K, CLASSES] = [8, 8, 2, 4, 3];
const [h, w] = [H / 2, W / 2];

/** stem conv → max pool → 'features' conv (relu, K channels, h×w) → flatten → dense: gradients vary by position. */
function cnn() {
  const stem = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'tanh', name: 'stem' });
  const pool = tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool' });
  const features = tfl.layers.conv2d({ filters: K, kernelSize: 3, padding: 'same', activation: 'relu', name: 'features' });
  const flatten = tfl.layers.flatten({ name: 'flatten' });
  const dense = tfl.layers.dense({ units: CLASSES, name: 'logits' });
  const input = tfl.input({ shape: [H, W, C] });
  const a = features.apply(pool.apply(stem.apply(input))) as tfl.SymbolicTensor;
  const model = setSeededWeights(tfl.model({ inputs: input, outputs: dense.apply(flatten.apply(a)) as tfl.SymbolicTensor }), 8, 0.9);
  const featureModel = tfl.model({ inputs: input, outputs: a });
  const head = (v: tf.Tensor) => dense.apply(flatten.apply(v)) as tf.Tensor;
  return { model, featureModel, head };
}

/** A and g = ∂f_c/∂A as plain arrays, [n, h, w, K] row-major. */
async function activationAndGradient(x: tf.Tensor, targets: number[]) {
  const { model, featureModel, head } = cnn();
  const activation = featureModel.predict(x) as tf.Tensor;
  const gradient = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(head(v), tf.oneHot(tf.tensor1d(targets, 'int32'), CLASSES))))(activation);
  const result = { model, head, A: await activation.data(), g: await gradient.data() };
  [activation, gradient].forEach((t) => t.dispose());
  return result;
}

type PerExample = (A: (p: number, k: number) => number, g: (p: number, k: number) => number) => number[];

/** A JS map formula per example at the layer, then half-pixel bilinear upsampling to H×W. */
function reference(A: ArrayLike<number>, g: ArrayLike<number>, n: number, formula: PerExample): Float64Array {
  const out = new Float64Array(n * H * W);
  for (let e = 0; e < n; e++) {
    const at = (arr: ArrayLike<number>) => (p: number, k: number) => arr[(e * h * w + p) * K + k];
    const map = Float64Array.from(formula(at(A), at(g)));
    out.set(upsampleAndCrop(map, [h, w], [H, W], [H, W], [0, 0]), e * H * W);
  }
  return out;
}

const relu = (v: number) => Math.max(v, 0);
const positions = Array.from({ length: h * w }, (_, p) => p);
const channels = Array.from({ length: K }, (_, k) => k);
const sumOver = (f: (i: number) => number, n: number) => Array.from({ length: n }, (_, i) => f(i)).reduce((a, b) => a + b, 0);

const FORMULAS: [string, typeof gradCamPlusPlus, PerExample][] = [
  [
    'gradCamPlusPlus',
    gradCamPlusPlus,
    (A, g) => {
      const weights = channels.map((k) => {
        const sumA = sumOver((p) => A(p, k), h * w);
        return sumOver((p) => {
          const gv = g(p, k);
          if (gv === 0) return 0;
          const alpha = (gv * gv) / (2 * gv * gv + sumA * gv * gv * gv + 1e-6);
          return alpha * relu(gv);
        }, h * w);
      });
      return positions.map((p) => relu(sumOver((k) => weights[k] * A(p, k), K)));
    },
  ],
  [
    'xGradCam',
    xGradCam,
    (A, g) => {
      const weights = channels.map((k) => sumOver((p) => g(p, k) * A(p, k), h * w) / (sumOver((p) => A(p, k), h * w) + 1e-7));
      return positions.map((p) => relu(sumOver((k) => weights[k] * A(p, k), K)));
    },
  ],
  ['layerCam', layerCam, (A, g) => positions.map((p) => relu(sumOver((k) => relu(g(p, k)) * A(p, k), K)))],
  ['hiResCam', hiResCam, (A, g) => positions.map((p) => relu(sumOver((k) => g(p, k) * A(p, k), K)))],
  [
    'gradCam',
    gradCam,
    (A, g) => {
      const weights = channels.map((k) => sumOver((p) => g(p, k), h * w) / (h * w));
      return positions.map((p) => relu(sumOver((k) => weights[k] * A(p, k), K)));
    },
  ],
];

describe('gradient CAMs (pytorch-grad-cam formulas)', () => {
  const x = seededTensor([3, H, W, C], 41);
  const targets = [0, 2, 1];
  afterAll(() => x.dispose());

  it.each(FORMULAS)('%s matches its formula at the layer, upsampled', async (_name, method, formula) => {
    const { model, A, g } = await activationAndGradient(x, targets);
    const expected = reference(A, g, 3, formula);
    const cam = await expectNoLeak(() => method(model, x, { target: targets, layer: 'features', batchSize: 2 }));
    expect(cam.shape).toEqual([3, H, W, 1]);
    await expectClose(cam, expected, 1e-4);
    cam.dispose();
    model.dispose();
  });
});

/** Top eigenvector of a small symmetric matrix by cyclic Jacobi rotations (float64). */
function topEigenvector(matrix: number[][]): number[] {
  const n = matrix.length;
  const a = matrix.map((row) => [...row]);
  const v: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(a[p][q]) < 1e-300) continue;
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k][p];
          const akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p][k];
          const aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k][p];
          const vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  let best = 0;
  for (let i = 1; i < n; i++) if (a[i][i] > a[best][best]) best = i;
  return v.map((row) => row[best]);
}

describe('eigenCam and scoreCam', () => {
  const x = seededTensor([2, H, W, C], 43);
  afterAll(() => x.dispose());

  it('eigenCam is the sign-fixed, rectified projection on the first principal component', async () => {
    const { model, A } = await activationAndGradient(x, [0, 0]);
    const expected = reference(A, A, 2, (a) => {
      const mean = channels.map((k) => sumOver((p) => a(p, k), h * w) / (h * w));
      const centred = positions.map((p) => channels.map((k) => a(p, k) - mean[k]));
      const covariance = channels.map((i) => channels.map((j) => sumOver((p) => centred[p][i] * centred[p][j], h * w)));
      const v = topEigenvector(covariance);
      const projection = centred.map((row) => row.reduce((s, value, k) => s + value * v[k], 0));
      const channelMean = positions.map((p) => sumOver((k) => a(p, k), K) / K);
      const pm = sumOver((p) => projection[p], h * w) / (h * w);
      const cm = sumOver((p) => channelMean[p], h * w) / (h * w);
      const sign = sumOver((p) => (projection[p] - pm) * (channelMean[p] - cm), h * w) < 0 ? -1 : 1;
      return projection.map((value) => relu(sign * value));
    });
    const cam = await expectNoLeak(() => eigenCam(model, x, { layer: 'features' }));
    await expectClose(cam, expected, 1e-3);
    cam.dispose();
    model.dispose();
  });

  it('scoreCam weights channels by the softmax over channels of the masked-input scores', async () => {
    const targets = [1, 2];
    const { model, A } = await activationAndGradient(x, targets);
    const xs = await x.data();
    const expected = new Float64Array(2 * H * W);
    for (let e = 0; e < 2; e++) {
      // Masks: each channel upsampled with aligned corners, min-max normalised; then the masked input's score.
      const scores: number[] = [];
      for (let k = 0; k < K; k++) {
        const up = new Float64Array(H * W);
        for (let i = 0; i < H; i++) {
          for (let j = 0; j < W; j++) {
            const y = (i * (h - 1)) / (H - 1);
            const xx = (j * (w - 1)) / (W - 1);
            const [y0, x0] = [Math.floor(y), Math.floor(xx)];
            const [y1, x1] = [Math.min(y0 + 1, h - 1), Math.min(x0 + 1, w - 1)];
            const [dy, dx] = [y - y0, xx - x0];
            const v = (r: number, c: number) => A[(e * h * w + r * w + c) * K + k];
            up[i * W + j] = (1 - dy) * ((1 - dx) * v(y0, x0) + dx * v(y0, x1)) + dy * ((1 - dx) * v(y1, x0) + dx * v(y1, x1));
          }
        }
        const [min, max] = [Math.min(...up), Math.max(...up)];
        const mask = up.map((v) => (v - min) / (max - min + 1e-8));
        const masked = new Float32Array(H * W * C);
        for (let p = 0; p < H * W; p++) for (let c = 0; c < C; c++) masked[p * C + c] = xs[e * H * W * C + p * C + c] * mask[p];
        const out = tf.tidy(() => model.predict(tf.tensor4d(masked, [1, H, W, C])) as tf.Tensor);
        scores.push((await out.data())[targets[e]]);
        out.dispose();
      }
      const maxScore = Math.max(...scores);
      const exps = scores.map((s) => Math.exp(s - maxScore));
      const weights = exps.map((v) => v / exps.reduce((a, b) => a + b, 0));
      const map = Float64Array.from(positions, (p) => relu(sumOver((k) => weights[k] * A[(e * h * w + p) * K + k], K)));
      expected.set(upsampleAndCrop(map, [h, w], [H, W], [H, W], [0, 0]), e * H * W);
    }
    const progress: number[] = [];
    const cam = await expectNoLeak(() => scoreCam(model, x, { target: targets, layer: 'features', batchSize: 3, onProgress: (d) => progress.push(d) }));
    await expectClose(cam, expected, 1e-4);
    expect(progress[progress.length - 1]).toBe(2 * K);
    cam.dispose();
    model.dispose();
  });
});

describe('CAM layers', () => {
  const x = seededTensor([2, H, W, C], 45);
  afterAll(() => x.dispose());

  it('reach layers inside a nested base and default to the last layer with a 4-D output', async () => {
    const { model } = cnn();
    // The usual transfer-learning shape: Sequential([base, flatten, dense]) with the convolutions inside `base`.
    const base = tfl.model({ inputs: model.inputs, outputs: model.getLayer('features').output as tfl.SymbolicTensor, name: 'base' });
    const wrapped = tfl.sequential({ layers: [base, model.getLayer('flatten'), model.getLayer('logits')] });
    const flat = await gradCam(model, x, { target: 1, layer: 'features' });
    const nested = await expectNoLeak(() => gradCam(wrapped, x, { target: 1, layer: 'features' }));
    const byDefault = await layerCam(wrapped, x, { target: 1 });
    const named = await layerCam(model, x, { target: 1, layer: 'features' });
    await expectClose(nested, flat, 1e-6);
    await expectClose(byDefault, named, 1e-6);
    const atBase = await gradCam(wrapped, x, { target: 1, layer: 'base' });
    await expectClose(atBase, flat, 1e-6);
    [flat, nested, byDefault, named, atBase].forEach((t) => t.dispose());
    await expectRejectsWithoutLeak(() => hiResCam(wrapped, x, { target: 1, layer: 'logits' }), /options\.layer: layer "logits" outputs shape \[N, 3\]/);
    await expectRejectsWithoutLeak(() => hiResCam(wrapped, x, { target: 1, layers: ['features'] } as never), /options\.layers: unknown option; did you mean 'layer'\?/);
    model.dispose();
  });

  it('skip pooled [N, 1, 1, c] outputs when choosing the default layer (their map would be constant)', async () => {
    const input = tfl.input({ shape: [H, W, C] });
    const conv = tfl.layers.conv2d({ filters: K, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv' });
    const pooled = tfl.layers.averagePooling2d({ poolSize: [H, W], name: 'pooled' });
    const dense = tfl.layers.dense({ units: CLASSES, name: 'logits' });
    const output = dense.apply(tfl.layers.flatten().apply(pooled.apply(conv.apply(input)))) as tfl.SymbolicTensor;
    const model = setSeededWeights(tfl.model({ inputs: input, outputs: output }), 9, 0.9);
    const byDefault = await gradCam(model, x, { target: 2 });
    const named = await gradCam(model, x, { target: 2, layer: 'conv' });
    await expectClose(byDefault, named, 1e-6);
    [byDefault, named].forEach((t) => t.dispose());
    model.dispose();
  });
});
