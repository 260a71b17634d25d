/**
 * DeepLift (Rescale) and DeepLiftShap against a plain-JS float64 computation, summation to delta on every
 * kernel the rules cover, the stripping of a final softmax or sigmoid, several inputs, and the engine's
 * contract (chunking, progress, abort, leaks, bad input).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { deepLift, deepLiftShap, gradientXInput } from '../../src/index';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak, relativeL1, seededTensor } from '../helpers';
import { setSeededWeights } from '../helpers/models';
import { attr, convGraph, graphModel, logisticGraph } from '../lrp/graph-models';

/** Per-example sums of an attribution (or of several, one per input), `[N]`. */
async function totals(attribution: tf.Tensor | tf.Tensor[]): Promise<Float32Array> {
  const list = Array.isArray(attribution) ? attribution : [attribution];
  const summed = tf.tidy(() => tf.addN(list.map((a) => tf.sum(tf.reshape(a, [a.shape[0], -1]), 1))));
  const values = (await summed.data()) as Float32Array;
  summed.dispose();
  return values;
}

/** `f_c(x) − f_c(x₀)` per example for a forward function of the inputs. */
async function scoreDifference(forward: (...xs: tf.Tensor[]) => tf.Tensor, x: tf.Tensor[], x0: tf.Tensor[], target: number): Promise<Float32Array> {
  const difference = tf.tidy(() => {
    const score = (xs: tf.Tensor[]) => tf.reshape(tf.slice(tf.reshape(forward(...xs), [xs[0].shape[0], -1]), [0, target], [-1, 1]), [-1]);
    return tf.sub(score(x), score(x0));
  });
  const values = (await difference.data()) as Float32Array;
  difference.dispose();
  return values;
}

const predictOf = (model: tfl.LayersModel) => (...xs: tf.Tensor[]) => model.predict(xs.length === 1 ? xs[0] : xs) as tf.Tensor;

describe('deepLift: the Rescale rule', () => {
  it('matches a float64 plain-JS DeepLift of a two-hidden-layer ReLU MLP, and differs from gradient × input', async () => {
    const model = setSeededWeights(
      tfl.sequential({
        layers: [
          tfl.layers.dense({ inputShape: [3], units: 5, activation: 'relu' }),
          tfl.layers.dense({ units: 4, activation: 'relu' }),
          tfl.layers.dense({ units: 2 }),
        ],
      }),
      7,
      0.9,
    );
    const xs = [
      [1.2, -0.7, 0.4],
      [-0.3, 0.9, -1.1],
    ];
    const x0s = [
      [0.2, 0.3, -0.5],
      [0.4, -0.6, 0.1],
    ];
    const [W1, b1, W2, b2, W3] = await Promise.all(model.getWeights().map((w) => w.data()));
    const layer = (v: number[], W: ArrayLike<number>, b: ArrayLike<number>, units: number) =>
      Array.from({ length: units }, (_, j) => v.reduce((acc, vi, i) => acc + vi * W[i * units + j], b[j]));
    const relu = (v: number[]) => v.map((t) => Math.max(t, 0));
    const multipliers = (z: number[], z0: number[]) =>
      z.map((zj, j) => (Math.abs(zj - z0[j]) < 1e-7 ? (zj > 0 ? 1 : 0) : (Math.max(zj, 0) - Math.max(z0[j], 0)) / (zj - z0[j])));
    const target = 1;
    const expected = xs.flatMap((x, e) => {
      const x0 = x0s[e];
      const z1 = layer(x, W1, b1, 5);
      const z10 = layer(x0, W1, b1, 5);
      const z2 = layer(relu(z1), W2, b2, 4);
      const z20 = layer(relu(z10), W2, b2, 4);
      const m2 = multipliers(z2, z20).map((m, j) => m * W3[j * 2 + target]);
      const m1 = multipliers(z1, z10).map((m, j) => m * m2.reduce((acc, mk, k) => acc + mk * W2[j * 4 + k], 0));
      return x.map((xi, i) => (xi - x0[i]) * m1.reduce((acc, mj, j) => acc + mj * W1[i * 5 + j], 0));
    });
    const x = tf.tensor2d(xs);
    const x0 = tf.tensor2d(x0s);
    const attribution = await expectNoLeak(() => deepLift(model, x, { target, baseline: x0 }));
    await expectClose(attribution, expected, 1e-5);
    // The case is one where Rescale is not the gradient: some units switch between x and x₀.
    const shifted = tf.sub(x, x0);
    const gradient = await gradientXInput((v: tf.Tensor) => model.predict(tf.add(v, x0)) as tf.Tensor, shifted, { target, batchSize: 2 });
    expect(relativeL1(await attribution.data(), await gradient.data())).toBeGreaterThan(0.05);
    tf.dispose([x, x0, attribution, shifted, gradient]);
    model.dispose();
  });

  it("matches a float64 plain-JS DeepLift through ReLU and Captum's max-pool rule, window by window", async () => {
    // f(v) = flatten(maxPool2x2(relu(v − 0.2))) · W: every window has one positive maximum in the inputs
    // and in the baseline (no ties), at different positions in several windows, with y > y₀ and y < y₀.
    const xs = [
      [0.9, -0.3, 0.5, 1.4, 0.1, 0.6, -0.8, 0.2, -0.5, 0.3, 1.1, 0.7, 0.8, -0.2, 0.4, 1.0],
      [-0.6, 0.2, 0.9, 0.1, 1.5, 0.4, 0.3, -0.7, 0.2, 0.25, 0.6, 0.35, 0.0, 0.7, -0.9, 1.2],
    ];
    const x0 = [0.4, 0.7, 1.2, -0.1, 0.3, 0.1, 0.6, 0.9, 0.5, 0.6, -0.4, 0.2, 0.3, 0.9, 1.3, 0.5];
    const W = [[1, -0.5], [-2, 0.8], [0.7, 1.5], [-1.2, 0.3]];
    const target = 0;
    const w = tf.tensor2d(W);
    const f = (v: tf.Tensor) => tf.matMul(tf.reshape(tf.maxPool(tf.relu(tf.sub(v, 0.2)) as tf.Tensor4D, 2, 2, 'valid'), [-1, 4]), w);
    const windowOf = (i: number) => 2 * Math.floor(Math.floor(i / 4) / 2) + Math.floor((i % 4) / 2);
    const argmaxInWindow = (h: number[], window: number) => {
      const cells = h.map((_, i) => i).filter((i) => windowOf(i) === window);
      return cells.reduce((best, i) => (h[i] > h[best] ? i : best), cells[0]);
    };
    const expected = xs.flatMap((x) => {
      const z = x.map((t) => t - 0.2);
      const z0 = x0.map((t) => t - 0.2);
      const h = z.map((t) => Math.max(t, 0));
      const h0 = z0.map((t) => Math.max(t, 0));
      // Captum's max-pool rule: g·(c − y₀) to the input's maximum, g·(y − c) to the baseline's, ÷ Δh.
      const routed = new Array<number>(16).fill(0);
      for (let window = 0; window < 4; window++) {
        const [p, q] = [argmaxInWindow(h, window), argmaxInWindow(h0, window)];
        const [y, y0, g] = [h[p], h0[q], W[window][target]];
        const c = Math.max(y, y0);
        routed[p] += g * (c - y0);
        routed[q] += g * (y - c);
      }
      return x.map((xi, i) => {
        const dh = h[i] - h0[i];
        const mh = Math.abs(dh) < 1e-7 ? (argmaxInWindow(h, windowOf(i)) === i ? W[windowOf(i)][target] : 0) : routed[i] / dh;
        const dz = z[i] - z0[i];
        const mz = mh * (Math.abs(dz) < 1e-7 ? (z[i] > 0 ? 1 : 0) : dh / dz);
        return (xi - x0[i]) * mz;
      });
    });
    const x = tf.tensor4d(xs.flat(), [2, 4, 4, 1]);
    const baseline = tf.tensor4d(x0, [1, 4, 4, 1]);
    const attribution = await expectNoLeak(() => deepLift(f, x, { target, baseline }));
    await expectClose(attribution, expected, 1e-5);
    tf.dispose([w, x, baseline, attribution]);
  });

  it('sums to f(x) − f(x₀) on a ReLU CNN with max pooling (overlapping windows) and a random baseline', async () => {
    const model = setSeededWeights(
      tfl.sequential({
        layers: [
          tfl.layers.conv2d({ inputShape: [9, 9, 2], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
          tfl.layers.maxPooling2d({ poolSize: 3, strides: 2 }),
          tfl.layers.conv2d({ filters: 5, kernelSize: 2, activation: 'relu' }),
          tfl.layers.maxPooling2d({ poolSize: 2, padding: 'same' }),
          tfl.layers.flatten(),
          tfl.layers.dense({ units: 6, activation: 'relu' }),
          tfl.layers.dense({ units: 3 }),
        ],
      }),
      11,
      0.7,
    );
    const x = seededTensor([3, 9, 9, 2], 3, 1);
    const x0 = seededTensor([1, 9, 9, 2], 4, 0.5);
    const attribution = await expectNoLeak(() => deepLift(model, x, { target: 2, baseline: x0 }));
    const x0s = tf.tile(x0, [3, 1, 1, 1]);
    const delta = await scoreDifference(predictOf(model), [x], [x0s], 2);
    await expectClose(await totals(attribution), delta, 1e-4);
    // Without the rules the sum is off: gradient × (x − x₀) is no summation-to-delta method.
    const shifted = tf.sub(x, x0s);
    const plain = await gradientXInput((v: tf.Tensor) => model.predict(tf.add(v, x0s)) as tf.Tensor, shifted, { target: 2, batchSize: 3 });
    expect(relativeL1(await totals(plain), delta)).toBeGreaterThan(0.01);
    tf.dispose([x, x0, x0s, attribution, shifted, plain]);
    model.dispose();
  });

  it('sums to delta through every kernel it covers (ELU, SELU, leaky ReLU, PReLU, ReLU6, clipped ReLU, max pooling, global max pooling, softplus, hard sigmoid, tanh, sigmoid)', async () => {
    const input = tfl.input({ shape: [6, 6, 2] });
    let h = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'elu' }).apply(input) as tfl.SymbolicTensor;
    h = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.conv2d({ filters: 4, kernelSize: 2, activation: 'selu' }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.leakyReLU({ alpha: 0.2 }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.prelu({}).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.depthwiseConv2d({ kernelSize: 1, activation: 'relu6' }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.reLU({ maxValue: 0.3 }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.globalMaxPooling2d({}).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.dense({ units: 5, activation: 'softplus' }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.dense({ units: 5, activation: 'hardSigmoid' }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.dense({ units: 4, activation: 'tanh' }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.dense({ units: 4, activation: 'sigmoid' }).apply(h) as tfl.SymbolicTensor;
    const output = tfl.layers.dense({ units: 2 }).apply(h) as tfl.SymbolicTensor;
    const model = setSeededWeights(tfl.model({ inputs: input, outputs: output }), 5, 1.2);
    const x = seededTensor([3, 6, 6, 2], 8, 2);
    const attribution = await expectNoLeak(() => deepLift(model, x, { target: 0 }));
    const zeros = tf.zerosLike(x);
    await expectClose(await totals(attribution), await scoreDifference(predictOf(model), [x], [zeros], 0), 1e-4);
    tf.dispose([x, zeros, attribution]);
    model.dispose();
  });

  it('sums to delta on a sigmoid/tanh MLP and on a function with 3-D max pooling and a max reduction (functions are taken as they are)', async () => {
    const mlp = setSeededWeights(
      tfl.sequential({
        layers: [
          tfl.layers.dense({ inputShape: [5], units: 6, activation: 'sigmoid' }),
          tfl.layers.dense({ units: 6, activation: 'tanh' }),
          tfl.layers.dense({ units: 2 }),
        ],
      }),
      2,
      1.5,
    );
    const x = seededTensor([4, 5], 9, 2);
    const x0 = seededTensor([4, 5], 10, 1);
    const attribution = await deepLift(mlp, x, { target: 1, baseline: x0 });
    await expectClose(await totals(attribution), await scoreDifference(predictOf(mlp), [x], [x0], 1), 1e-4);
    // A function ending in a sigmoid keeps it: its attributions sum to the difference of probabilities.
    const w = seededTensor([2, 1], 12, 1);
    const volume = seededTensor([2, 4, 4, 4, 1], 13, 1);
    const f = (v: tf.Tensor) => {
      const pooled = tf.maxPool3d(tf.relu(tf.sub(v, 0.1)) as tf.Tensor5D, 2, 2, 'valid');
      const features = tf.concat([tf.reshape(tf.sum(pooled, [1, 2, 3, 4]), [-1, 1]), tf.reshape(tf.max(v, [1, 2, 3]), [-1, 1])], 1);
      return tf.sigmoid(tf.matMul(features, w));
    };
    const fromFunction = await expectNoLeak(() => deepLift(f, volume, { baseline: 0.05 }));
    const reference = tf.fill(volume.shape, 0.05);
    await expectClose(await totals(fromFunction), await scoreDifference(f, [volume], [reference], 0), 1e-4);
    tf.dispose([x, x0, attribution, w, volume, fromFunction, reference]);
    mlp.dispose();
  });

  it('several inputs: baselines per input, the attributions of all inputs sum to delta', async () => {
    const a = tfl.input({ shape: [4] });
    const b = tfl.input({ shape: [3] });
    const merged = tfl.layers.concatenate().apply([
      tfl.layers.dense({ units: 5, activation: 'relu' }).apply(a) as tfl.SymbolicTensor,
      tfl.layers.dense({ units: 5, activation: 'tanh' }).apply(b) as tfl.SymbolicTensor,
    ]) as tfl.SymbolicTensor;
    const output = tfl.layers.dense({ units: 2 }).apply(tfl.layers.dense({ units: 4, activation: 'relu' }).apply(merged)) as tfl.SymbolicTensor;
    const model = setSeededWeights(tfl.model({ inputs: [a, b], outputs: output }), 3, 1);
    const xa = seededTensor([3, 4], 1, 1);
    const xb = seededTensor([3, 3], 2, 1);
    const ba = seededTensor([1, 4], 3, 0.5);
    const attributions = await expectNoLeak(() => deepLift(model, [xa, xb], { target: 1, baseline: [ba, 0.25] }));
    expect(attributions.map((t: tf.Tensor) => t.shape)).toEqual([[3, 4], [3, 3]]);
    const x0 = [tf.tile(ba, [3, 1]), tf.fill([3, 3], 0.25)];
    await expectClose(await totals(attributions), await scoreDifference(predictOf(model), [xa, xb], x0, 1), 1e-4);
    tf.dispose([xa, xb, ba, ...attributions, ...x0]);
    model.dispose();
  });
});

/** `model` with the activation of its last layer replaced by `linear` (same weights). */
function withLinearHead(layers: () => tfl.layers.Layer[], activation: 'softmax' | 'sigmoid', seed: number): [tfl.LayersModel, tfl.LayersModel] {
  const probabilities = setSeededWeights(tfl.sequential({ layers: [...layers(), tfl.layers.dense({ units: 3, activation })] }), seed, 0.8);
  const logits = tfl.sequential({ layers: [...layers(), tfl.layers.dense({ units: 3 })] });
  logits.setWeights(probabilities.getWeights());
  return [probabilities, logits];
}

describe('deepLift: outputs that are probabilities', () => {
  const body = () => [tfl.layers.dense({ inputShape: [4], units: 6, activation: 'relu' })];

  it('leaves out a final softmax or sigmoid fused into the last layer, and frees the twin layer', async () => {
    for (const [activation, seed] of [['softmax', 1], ['sigmoid', 2]] as const) {
      const [probabilities, logits] = withLinearHead(body, activation, seed);
      const x = seededTensor([3, 4], seed + 10, 1.5);
      const stripped = await expectNoLeak(() => deepLift(probabilities, x, { target: 2 }));
      const expected = await deepLift(logits, x, { target: 2 });
      await expectClose(stripped, expected, 1e-6);
      // The twin shared the layer's weights: freeing it left the model whole.
      const again = await deepLift(probabilities, x, { target: 2 });
      await expectClose(again, stripped, 0);
      again.dispose();
      const zeros = tf.zerosLike(x);
      await expectClose(await totals(stripped), await scoreDifference(predictOf(logits), [x], [zeros], 2), 1e-4);
      tf.dispose([x, zeros, stripped, expected]);
      probabilities.dispose();
      logits.dispose();
    }
  });

  it('leaves out a final Activation or Softmax layer, also inside a nested head', async () => {
    const [, logits] = withLinearHead(body, 'softmax', 3);
    const weights = logits.getWeights();
    const ending = [tfl.layers.activation({ activation: 'softmax' }), tfl.layers.softmax(), tfl.layers.activation({ activation: 'sigmoid' })];
    const x = seededTensor([2, 4], 21, 1.5);
    const expected = await deepLift(logits, x, { target: 0 });
    for (const last of ending) {
      const model = tfl.sequential({ layers: [...body(), tfl.layers.dense({ units: 3 }), last] });
      model.setWeights(weights);
      await expectClose(await deepLift(model, x, { target: 0 }), expected, 1e-6);
    }
    // The usual transfer-learning shape: Sequential([base, head]) with the softmax in the nested head.
    const base = tfl.sequential({ layers: body() });
    const head = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [6], units: 3, activation: 'softmax' })] });
    const nested = tfl.sequential({ layers: [tfl.layers.inputLayer({ inputShape: [4] }), base, head] });
    nested.setWeights(weights);
    await expectClose(await expectNoLeak(() => deepLift(nested, x, { target: 0 })), expected, 1e-6);
    tf.dispose([x, expected, ...weights]);
  });

  it('several outputs: `output` picks one, and only that output loses its final softmax', async () => {
    const input = tfl.input({ shape: [4] });
    const trunk = tfl.layers.dense({ units: 6, activation: 'relu' }).apply(input) as tfl.SymbolicTensor;
    const scores = tfl.layers.dense({ units: 2, activation: 'sigmoid', name: 'scores' }).apply(trunk) as tfl.SymbolicTensor;
    const classes = tfl.layers.dense({ units: 3, activation: 'softmax', name: 'classes' }).apply(trunk) as tfl.SymbolicTensor;
    const model = setSeededWeights(tfl.model({ inputs: input, outputs: [scores, classes] }), 6, 1);
    const [W1, b1, , , W3, b3] = model.getWeights();
    // The logits of 'classes', written out with the model's weights.
    const logits = (v: tf.Tensor) => tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(v, W1), b1)), W3), b3);
    const x = seededTensor([3, 4], 41, 1.5);
    const zeros = tf.zerosLike(x);
    const byName = await expectNoLeak(() => deepLift(model, x, { output: 'classes', target: 2 }));
    const byIndex = await deepLift(model, x, { output: 1, target: 2 });
    await expectClose(byIndex, await byName.data(), 0);
    await expectClose(await totals(byName), await scoreDifference(logits, [x], [zeros], 2), 1e-4);
    tf.dispose([x, zeros, byName, byIndex]);
    model.dispose();
  });

  it('GraphModels: executes up to the node feeding a final Softmax or Sigmoid', async () => {
    // Logistic regression σ(x·w): the logit is linear, so DeepLift is exactly w ⊙ (x − x₀).
    const logistic = logisticGraph();
    const x = tf.tensor2d([[1, 2, -1], [0.5, -0.5, 3]]);
    const attribution = await expectNoLeak(() => deepLift(logistic, x, { baseline: 0.5 }));
    await expectClose(attribution, [0.1 * 0.5, -0.5 * 1.5, 0.2 * -1.5, 0.1 * 0, -0.5 * -1, 0.2 * 2.5], 1e-6);
    // A conv graph with ReLU, ReLU6 and max pooling ending in Softmax → Identity: sums to the logits' delta.
    const conv = convGraph(4);
    const image = seededTensor([2, 6, 6, 2], 31, 1);
    const fromGraph = await expectNoLeak(() => deepLift(conv, image, { target: 1 }));
    const zeros = tf.zerosLike(image);
    const logits = (v: tf.Tensor) => conv.execute({ image: v }, 'logits') as tf.Tensor;
    await expectClose(await totals(fromGraph), await scoreDifference(logits, [image], [zeros], 1), 1e-4);
    tf.dispose([x, attribution, image, fromGraph, zeros]);
    logistic.dispose();
    conv.dispose();
  });

  it('GraphModels: a sigmoid fused into the last node is an error', async () => {
    const w = tf.tensor2d([[0.1], [-0.5], [0.2]]);
    const b = tf.tensor1d([0.1]);
    const fused = graphModel({ name: 'x', shape: [-1, 3] }, [
      { name: 'probability', op: '_FusedMatMul', inputs: ['x', 'w', 'b'], attrs: { transpose_a: attr.bool(false), transpose_b: attr.bool(false), fused_ops: attr.strs(['BiasAdd', 'Sigmoid']), num_args: attr.int(1) } },
      { name: 'Identity', op: 'Identity', inputs: ['probability'] },
    ], { w, b });
    const x = tf.ones([1, 3]);
    await expectRejectsWithoutLeak(() => deepLift(fused, x), /output node "probability" \(_FusedMatMul\) has a sigmoid fused into it/);
    tf.dispose([w, b, x]);
    fused.dispose();
  });
});

describe('deepLiftShap', () => {
  it('is the mean of deepLift over the baselines, and sums to f(x) − mean_b f(b) of the logit', async () => {
    const layers = () => [
      tfl.layers.conv2d({ inputShape: [5, 5, 1], filters: 3, kernelSize: 3, activation: 'relu' }),
      tfl.layers.maxPooling2d({ poolSize: 2, padding: 'same' }),
      tfl.layers.flatten(),
    ];
    const [model, logits] = withLinearHead(layers, 'softmax', 6);
    const x = seededTensor([2, 5, 5, 1], 1, 1);
    const set = seededTensor([3, 5, 5, 1], 2, 1);
    const progress: number[] = [];
    const shap = await expectNoLeak(() => deepLiftShap(model, x, { target: 1, baselines: set, batchSize: 4, onProgress: (done: number) => progress.push(done) }));
    expect(progress).toEqual([4, 8, 12]);
    const each = await Promise.all([0, 1, 2].map((j) => deepLift(model, x, { target: 1, baseline: tf.slice(set, j, 1) })));
    const mean = tf.div(tf.addN(each), 3);
    await expectClose(shap, mean, 1e-5);
    const score = (v: tf.Tensor) => tf.slice(logits.predict(v) as tf.Tensor, [0, 1], [-1, 1]);
    const delta = tf.tidy(() => tf.reshape(tf.sub(score(x), tf.mean(score(set))), [-1]));
    await expectClose(await totals(shap), delta, 1e-4);
    tf.dispose([x, set, shap, ...each, mean, delta]);
    model.dispose();
    logits.dispose();
  });

  it('several inputs take one set per input; batchSize does not change the result', async () => {
    const a = tfl.input({ shape: [3] });
    const b = tfl.input({ shape: [2] });
    const merged = tfl.layers.concatenate().apply([a, b]) as tfl.SymbolicTensor;
    const output = tfl.layers.dense({ units: 2 }).apply(tfl.layers.dense({ units: 5, activation: 'relu' }).apply(merged)) as tfl.SymbolicTensor;
    const model = setSeededWeights(tfl.model({ inputs: [a, b], outputs: output }), 8, 1);
    const x = [seededTensor([3, 3], 1), seededTensor([3, 2], 2)];
    const sets = [seededTensor([4, 3], 3), seededTensor([4, 2], 4)];
    const auto = await deepLiftShap(model, x, { target: 0, baselines: sets });
    const small = await deepLiftShap(model, x, { target: 0, baselines: sets, batchSize: 2 });
    for (let k = 0; k < 2; k++) await expectClose(small[k], auto[k], 1e-6);
    const meanF = tf.tidy(() => tf.mean(tf.slice(model.predict(sets) as tf.Tensor, [0, 0], [-1, 1])));
    const fx = tf.tidy(() => tf.reshape(tf.slice(model.predict(x) as tf.Tensor, [0, 0], [-1, 1]), [-1]));
    const delta = tf.sub(fx, meanF);
    await expectClose(await totals(auto), delta, 1e-4);
    tf.dispose([...x, ...sets, ...auto, ...small, meanF, fx, delta]);
    model.dispose();
  });
});

describe('deepLift and deepLiftShap: engine contract', () => {
  const model = () =>
    setSeededWeights(tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 5, activation: 'relu' }), tfl.layers.dense({ units: 2 })] }), 4, 1);

  it('rejects unknown options, missing or misshapen baselines and empty sets, naming the option', async () => {
    const m = model();
    const x = seededTensor([2, 4], 1);
    const set = seededTensor([3, 4], 2);
    await expectRejectsWithoutLeak(() => deepLift(m, x, { target: 0, baselines: set } as never), /options\.baselines: unknown option; Captum's\/Zennit's 'baselines' is called 'baseline' here/);
    const misshapen = tf.ones([3]);
    await expectRejectsWithoutLeak(() => deepLift(m, x, { target: 0, baseline: misshapen }), /options\.baseline: expected shape/);
    await expectRejectsWithoutLeak(() => deepLiftShap(m, x, { target: 0 }), /options\.baselines: is required: a tensor \[B, 4\]/);
    await expectRejectsWithoutLeak(() => deepLiftShap(m, x, { target: 0, baseline: set } as never), /options\.baseline: unknown option; did you mean 'baselines'\?/);
    const wrong = tf.ones([3, 5]);
    await expectRejectsWithoutLeak(() => deepLiftShap(m, x, { target: 0, baselines: wrong }), /options\.baselines: expected shape \[B, 4\] .*got \[3, 5\]/);
    const empty = tf.zeros([0, 4]);
    await expectRejectsWithoutLeak(() => deepLiftShap(m, x, { target: 0, baselines: empty }), /options\.baselines: the set is empty \(B = 0\)/);
    const infinite = tf.fill([2, 4], Infinity);
    await expectRejectsWithoutLeak(() => deepLiftShap(m, x, { target: 0, baselines: infinite }), /options\.baselines: contains infinite values/);
    await expectRejectsWithoutLeak(() => deepLift(m, x, { target: 7 }), /options\.target: index 7 is out of range/);
    tf.dispose([x, set, misshapen, wrong, empty, infinite]);
    m.dispose();
  });

  it('aborts between chunks without leaking', async () => {
    const m = model();
    const x = seededTensor([4, 4], 1);
    const controller = new AbortController();
    await expectRejectsWithoutLeak(
      () => deepLift(m, x, { target: 1, batchSize: 2, signal: controller.signal, onProgress: (done: number) => done === 4 && controller.abort() }),
      /aborted/,
    );
    x.dispose();
    m.dispose();
  });
});
