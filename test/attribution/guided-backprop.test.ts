/**
 * Guided backpropagation, deconvolution and guided Grad-CAM against hand-computed float64 gradients of
 * tiny ReLU nets (LayersModels, GraphModels, functions, several inputs), and guided Grad-CAM against the
 * product of independently computed maps.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { deconvolution, guidedBackprop, guidedGradCam, saliency } from '../../src/index';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak, seededTensor } from '../helpers';
import { setSeededWeights } from '../helpers/models';
import { attr, graphModel } from '../lrp/graph-models';

// x [3] → Dense(4, relu) → Dense(3, relu) → Dense(2): weights chosen so that the hidden units see every
// combination of the sign of their input z and of the gradient g arriving at them.
const W1 = [
  [1, 0.5, -1, 0.2],
  [-0.5, 1, 0.25, 0.5],
  [2, -1, 1, -0.4],
];
const B1 = [0.5, 3, 0.1, 0.3];
const W2 = [
  [1, -1, 0.5],
  [-0.5, 1, 1],
  [1, 0.3, -0.7],
  [-1, 0.5, 0.2],
];
const B2 = [0.1, -0.2, 0.05];
const W3 = [
  [1, -1],
  [-0.5, 1],
  [0.8, 0.4],
];
const X = [
  [1, -2, 0.5],
  [0.3, 0.4, -1],
];

const relu = (t: number) => Math.max(t, 0);
const affine = (v: number[], W: number[][], b: number[]) => b.map((bj, j) => v.reduce((acc, vi, i) => acc + vi * W[i][j], bj));
const back = (g: number[], W: number[][]) => W.map((row) => row.reduce((acc, w, j) => acc + w * g[j], 0));

/** dx for target c with each ReLU's backward `rule(g, z)`, in float64. */
function handGradient(rule: (g: number, z: number) => number, target: number): number[] {
  return X.flatMap((x) => {
    const z1 = affine(x, W1, B1);
    const z2 = affine(z1.map(relu), W2, B2);
    const g2 = W3.map((row) => row[target]).map((g, j) => rule(g, z2[j]));
    const g1 = back(g2, W2).map((g, j) => rule(g, z1[j]));
    return back(g1, W1);
  });
}

const GUIDED = (g: number, z: number) => (z > 0 ? relu(g) : 0);
const DECONVOLUTION = (g: number) => relu(g);
const PLAIN = (g: number, z: number) => (z > 0 ? g : 0);

function layersNet(): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [3], units: 4, activation: 'relu', weights: [tf.tensor2d(W1), tf.tensor1d(B1)] }),
      tfl.layers.dense({ units: 3, activation: 'relu', weights: [tf.tensor2d(W2), tf.tensor1d(B2)] }),
      tfl.layers.dense({ units: 2, useBias: false, weights: [tf.tensor2d(W3)] }),
    ],
  });
}

/** The same net as a GraphModel: MatMul → BiasAdd → Relu, twice, → MatMul. */
function graphNet() {
  const constants = { w1: tf.tensor2d(W1), b1: tf.tensor1d(B1), w2: tf.tensor2d(W2), b2: tf.tensor1d(B2), w3: tf.tensor2d(W3) };
  const matMul = { transpose_a: attr.bool(false), transpose_b: attr.bool(false) };
  const model = graphModel({ name: 'x', shape: [-1, 3] }, [
    { name: 'z1', op: '_FusedMatMul', inputs: ['x', 'w1', 'b1'], attrs: { ...matMul, fused_ops: attr.strs(['BiasAdd', 'Relu']), num_args: attr.int(1) } },
    { name: 'm2', op: 'MatMul', inputs: ['z1', 'w2'], attrs: matMul },
    { name: 'z2', op: 'BiasAdd', inputs: ['m2', 'b2'] },
    { name: 'h2', op: 'Relu', inputs: ['z2'] },
    { name: 'out', op: 'MatMul', inputs: ['h2', 'w3'], attrs: matMul },
    { name: 'Identity', op: 'Identity', inputs: ['out'] },
  ], constants);
  Object.values(constants).forEach((t) => t.dispose());
  return model;
}

describe('guidedBackprop and deconvolution', () => {
  it('the tiny net meets every sign case at both hidden layers', () => {
    const rules = [GUIDED, DECONVOLUTION, PLAIN].map((rule) => handGradient(rule, 0));
    expect(rules[0]).not.toEqual(rules[2]);
    expect(rules[1]).not.toEqual(rules[2]);
    expect(rules[0]).not.toEqual(rules[1]);
  });

  it('match the hand-computed rules on a LayersModel, a GraphModel and a function', async () => {
    const layers = layersNet();
    const graph = graphNet();
    const w1 = tf.tensor2d(W1);
    const b1 = tf.tensor1d(B1);
    const w2 = tf.tensor2d(W2);
    const b2 = tf.tensor1d(B2);
    const w3 = tf.tensor2d(W3);
    const fn = (v: tf.Tensor) => tf.matMul(tf.relu(tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(v, w1), b1)), w2), b2)), w3);
    const x = tf.tensor2d(X);
    for (const model of [layers, graph, fn]) {
      for (const target of [0, 1]) {
        const guided = await expectNoLeak(() => guidedBackprop(model, x, { target }));
        const deconvolved = await expectNoLeak(() => deconvolution(model, x, { target }));
        await expectClose(guided, handGradient(GUIDED, target), 1e-6);
        await expectClose(deconvolved, handGradient(DECONVOLUTION, target), 1e-6);
        tf.dispose([guided, deconvolved]);
      }
    }
    // The ordinary gradient is untouched afterwards.
    const plain = await saliency(layers, x, { target: 0, abs: false });
    await expectClose(plain, handGradient(PLAIN, 0), 1e-6);
    tf.dispose([x, plain, w1, b1, w2, b2, w3]);
    layers.dispose();
    graph.dispose();
  });

  it('several inputs; ReLU6 is modified like ReLU, max pooling is not', async () => {
    // f(a, b) = Σ_j v_j·relu6(z_j), z = 4·(a·Wa + b·Wb): z covers (−∞, 0], (0, 6] and above 6.
    const Wa = [[1, -0.5, 2, 0.5]];
    const Wb = [[0.5, 1, -1, 1], [-1, 0.25, 1, 0.5]];
    const v = [1, -1, 0.5, -2];
    const a = [[0.8], [-0.3]];
    const b = [[1, 0.5], [0.2, -0.6]];
    const [wa, wb, vt] = [tf.tensor2d(Wa), tf.tensor2d(Wb), tf.tensor2d([v], [1, 4])];
    const f = (ta: tf.Tensor, tb: tf.Tensor) => tf.sum(tf.mul(tf.relu6(tf.mul(tf.add(tf.matMul(ta, wa), tf.matMul(tb, wb)), 4)), vt), 1, true);
    const zs = a.map((ai, e) => v.map((_, j) => 4 * (ai[0] * Wa[0][j] + b[e][0] * Wb[0][j] + b[e][1] * Wb[1][j])));
    expect(zs.flat().some((t) => t > 6) && zs.flat().some((t) => t > 0 && t <= 6) && zs.flat().some((t) => t <= 0)).toBe(true);
    const expected = (rule: (g: number, z: number) => number) => {
      const rows = zs.map((z) => v.map((vj, j) => 4 * rule(vj, z[j])));
      return [rows.flatMap((g) => [Wa[0].reduce((acc, w, j) => acc + w * g[j], 0)]), rows.flatMap((g) => Wb.map((row) => row.reduce((acc, w, j) => acc + w * g[j], 0)))];
    };
    const inputs = [tf.tensor2d(a), tf.tensor2d(b)];
    const guided = await expectNoLeak(() => guidedBackprop(f, inputs));
    const [ga, gb] = expected((g, z) => (z > 0 && z <= 6 ? relu(g) : 0));
    await expectClose(guided[0], ga, 1e-6);
    await expectClose(guided[1], gb, 1e-6);
    // Max pooling routes the gradient as it is: negative gradients reach the window maxima.
    const pooled = (x: tf.Tensor) => tf.reshape(tf.sum(tf.mul(tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'), tf.tensor4d([1, -1, -2, 0.5], [1, 2, 2, 1])), [1, 2, 3]), [-1, 1]);
    const image = tf.tensor4d([1, 3, -1, -2, 0, 2, -3, -0.5, 5, 4, 0.5, 0.25, 1, 2, 0.75, 1.5], [1, 4, 4, 1]);
    const routed = await guidedBackprop(pooled, image);
    const expectedRouting = new Array(16).fill(0);
    [1, 7, 8, 15].forEach((index, w) => (expectedRouting[index] = [1, -1, -2, 0.5][w]));
    await expectClose(routed, expectedRouting, 0);
    tf.dispose([wa, wb, vt, ...inputs, ...guided, image, routed]);
  });

  it('reject unknown options and bad targets without leaking', async () => {
    const model = layersNet();
    const x = tf.tensor2d(X);
    await expectRejectsWithoutLeak(() => guidedBackprop(model, x, { target: 0, abs: true } as never), /options\.abs: unknown option/);
    await expectRejectsWithoutLeak(() => deconvolution(model, x, { target: 5 }), /options\.target: index 5 is out of range/);
    x.dispose();
    model.dispose();
  });
});

describe('guidedGradCam', () => {
  /** conv(relu) 'features' at 4×4 (stride 2 on 9×9) → conv 'last' (relu) → flatten → dense. */
  function camNet(): tfl.LayersModel {
    return setSeededWeights(
      tfl.sequential({
        layers: [
          tfl.layers.conv2d({ inputShape: [9, 9, 2], filters: 3, kernelSize: 3, strides: 2, activation: 'relu', name: 'features' }),
          tfl.layers.conv2d({ filters: 4, kernelSize: 1, activation: 'relu', name: 'last' }),
          tfl.layers.flatten(),
          tfl.layers.dense({ units: 3 }),
        ],
      }),
      4,
      0.8,
    );
  }

  it('is guided backprop ⊙ the nearest-upsampled rectified Grad-CAM, both computed independently', async () => {
    const model = camNet();
    const x = seededTensor([2, 9, 9, 2], 6, 1);
    const target = 1;
    for (const layer of ['features', 'last']) {
      // The layer's activation A and ∂f/∂A from a split of the model, then relu(Σ_k mean(g_k) A_k) in JS.
      const index = model.layers.findIndex((l) => l.name === layer);
      const head = (a: tf.Tensor) => model.layers.slice(index + 1).reduce((h, l) => l.apply(h) as tf.Tensor, a);
      const activation = tf.tidy(() => model.layers.slice(0, index + 1).reduce((h, l) => l.apply(h) as tf.Tensor, x as tf.Tensor));
      const gradient = tf.grad((a: tf.Tensor) => tf.sum(tf.slice(head(a), [0, target], [-1, 1])))(activation);
      const [A, G] = await Promise.all([activation.data(), gradient.data()]);
      const [n, h, w, k] = activation.shape;
      const cam: number[] = [];
      for (let e = 0; e < n; e++) {
        const alpha = Array.from({ length: k }, (_, c) => {
          let sum = 0;
          for (let p = 0; p < h * w; p++) sum += G[(e * h * w + p) * k + c];
          return sum / (h * w);
        });
        for (let p = 0; p < h * w; p++) cam.push(relu(alpha.reduce((acc, a, c) => acc + a * A[(e * h * w + p) * k + c], 0)));
      }
      const guided = await guidedBackprop(model, x, { target });
      const g = await guided.data();
      // Input pixel (i, j) of example e reads map cell (⌊i·h/9⌋, ⌊j·w/9⌋), for both channels.
      const expected = Array.from(g, (value, flat) => {
        const j = Math.floor(flat / 2) % 9;
        const i = Math.floor(flat / 18) % 9;
        const e = Math.floor(flat / 162);
        return value * cam[(e * h + Math.floor((i * h) / 9)) * w + Math.floor((j * w) / 9)];
      });
      const map = await expectNoLeak(() => guidedGradCam(model, x, { target, layer, batchSize: 1 }));
      expect(map.shape).toEqual([2, 9, 9, 2]);
      await expectClose(map, expected, 1e-5);
      expect(cam.some((v) => v > 0) && cam.some((v) => v === 0)).toBe(true);
      tf.dispose([activation, gradient, guided, map]);
    }
    // The default layer is the last one with a 4-D output.
    const byDefault = await guidedGradCam(model, x, { target });
    const named = await guidedGradCam(model, x, { target, layer: 'last' });
    await expectClose(byDefault, named, 0);
    tf.dispose([x, byDefault, named]);
    model.dispose();
  });

  it('rejects non-image inputs, unknown layers and options', async () => {
    const model = camNet();
    const x = seededTensor([1, 9, 9, 2], 1);
    await expectRejectsWithoutLeak(() => guidedGradCam(model, x, { target: 0, layer: 'nope' }), /options\.layer: the model has no layer named "nope"/);
    await expectRejectsWithoutLeak(() => guidedGradCam(model, x, { target: 0, relu: false } as never), /options\.relu: unknown option/);
    const fn = (v: tf.Tensor) => tf.sum(v, [1, 2]);
    await expectRejectsWithoutLeak(() => guidedGradCam(fn, x, { target: 0, layer: 'last' }), /guidedGradCam needs a tf\.LayersModel/);
    x.dispose();
    model.dispose();
  });
});
