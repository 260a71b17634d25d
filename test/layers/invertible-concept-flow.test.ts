import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { InvertibleConceptFlow, type InvertibleConceptFlowArgs, layers } from '../../src/index';
import { ActNorm } from '../../src/layers/flow/act-norm';
import { expectClose, expectNoLeak, finiteDifferenceGradient, seededTensor } from '../helpers/index';

const small = { flows: 3, hidden: 8, depth: 1, seed: 7 };

/** A built flow whose ActNorm has been initialised on `first` (shifted, scaled data). */
function initialisedFlow(args: InvertibleConceptFlowArgs = small, dim = 4, seed = 11): { flow: InvertibleConceptFlow; first: tf.Tensor2D } {
  const flow = layers.invertibleConceptFlow(args);
  const first = tf.tidy(() => tf.add(seededTensor([16, dim], seed, 3), tf.linspace(-2, 2, dim))) as tf.Tensor2D;
  tf.dispose(flow.apply(first) as tf.Tensor);
  return { flow, first };
}

/** The layer's weights by their name inside the layer (`unit0/actnorm/loc`, ...). */
async function weightsByName(layer: tfl.layers.Layer): Promise<Map<string, Float32Array>> {
  const map = new Map<string, Float32Array>();
  for (const w of layer.weights) map.set(w.originalName.replace(/^.*?\/(unit\d+\/)/, '$1'), (await w.read().data()) as Float32Array);
  return map;
}

/** Plain-JS forward pass of the flow for one example: the independent reference. */
function referenceForward(x: number[], w: Map<string, Float32Array>, flows: number, depth: number, perms: number[][]): { z: number[]; logDet: number } {
  const dim = x.length;
  const half = dim / 2;
  const mlp = (input: number[], prefix: string, tanh: boolean): number[] => {
    let h = input;
    for (let l = 0; l < depth + 2; l++) {
      const kernel = w.get(`${prefix}/dense${l}/kernel`)!;
      const bias = w.get(`${prefix}/dense${l}/bias`)!;
      const out = bias.length;
      const next = Array.from(bias);
      for (let i = 0; i < h.length; i++) for (let j = 0; j < out; j++) next[j] += h[i] * kernel[i * out + j];
      h = l < depth + 1 ? next.map((v) => (v > 0 ? v : 0.01 * v)) : next;
    }
    return tanh ? h.map(Math.tanh) : h;
  };
  let h = [...x];
  let logDet = 0;
  for (let u = 0; u < flows; u++) {
    const loc = w.get(`unit${u}/actnorm/loc`)!;
    const scale = w.get(`unit${u}/actnorm/scale`)!;
    h = h.map((v, i) => scale[i] * (v + loc[i]));
    logDet += Array.from(scale).reduce((s, v) => s + Math.log(Math.abs(v)), 0);
    let apply = h.slice(0, half);
    let keep = h.slice(half);
    for (let i = 0; i < 2; i++) {
      if (i === 1) [apply, keep] = [keep, apply];
      const s = mlp(apply, `unit${u}/coupling/s${i}`, true);
      const t = mlp(apply, `unit${u}/coupling/t${i}`, false);
      keep = keep.map((v, j) => v * Math.exp(s[j]) + t[j]);
      logDet += s.reduce((a, b) => a + b, 0);
    }
    const coupled = [...apply, ...keep];
    h = perms[u].map((p) => coupled[p]);
  }
  return { z: h, logDet };
}

/** log|det M| of a square matrix by LU decomposition with partial pivoting. */
function logAbsDet(matrix: number[][]): number {
  const a = matrix.map((row) => [...row]);
  const n = a.length;
  let result = 0;
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r][c]) > Math.abs(a[pivot][c])) pivot = r;
    [a[c], a[pivot]] = [a[pivot], a[c]];
    result += Math.log(Math.abs(a[c][c]));
    for (let r = c + 1; r < n; r++) {
      const f = a[r][c] / a[c][c];
      for (let k = c; k < n; k++) a[r][k] -= f * a[c][k];
    }
  }
  return result;
}

describe('InvertibleConceptFlow', () => {
  it('computes the same z and log-determinant as a plain-JS implementation of the units', async () => {
    const { flow, first } = initialisedFlow();
    const x = seededTensor([5, 4], 3, 1.5);
    const { z, logDet } = flow.forwardWithLogDet(x);
    const w = await weightsByName(flow);
    const perms = flow.getConfig().permutations as number[][];
    const xs = (await x.array()) as number[][];
    const expected = xs.map((row) => referenceForward(row, w, small.flows, small.depth, perms));
    await expectClose(z, expected.flatMap((e) => e.z), 1e-4);
    await expectClose(logDet, expected.map((e) => e.logDet), 1e-4);
    tf.dispose([first, x, z, logDet]);
    flow.dispose();
  });

  it('inverts its forward pass to 1e-4 in float32 with the default depth and a wide hidden layer', async () => {
    const { flow, first } = initialisedFlow({ flows: 6, hidden: 64, depth: 2, seed: 3 }, 8);
    const x = tf.add(seededTensor([32, 8], 5, 3), 1);
    const roundTrip = tf.tidy(() => flow.inverse(flow.forwardWithLogDet(x).z));
    const error = tf.tidy(() => tf.max(tf.abs(tf.sub(roundTrip, x))));
    expect((await error.data())[0]).toBeLessThan(1e-4);
    const zRoundTrip = tf.tidy(() => flow.forwardWithLogDet(flow.inverse(x)).z);
    await expectClose(zRoundTrip, x, 1e-5);
    tf.dispose([first, x, roundTrip, error, zRoundTrip]);
    flow.dispose();
  });

  it('reports log|det J| of the autodiff Jacobian (D = 4, per example)', async () => {
    const { flow, first } = initialisedFlow();
    const x = seededTensor([3, 4], 9, 2);
    const rows: number[][][] = [];
    for (let i = 0; i < 4; i++) {
      const g = tf.grad((input: tf.Tensor) => tf.sum(tf.slice(flow.forwardWithLogDet(input).z, [0, i], [-1, 1])))(x);
      rows.push((await g.array()) as number[][]);
      g.dispose();
    }
    const { z, logDet } = flow.forwardWithLogDet(x);
    const reported = await logDet.data();
    for (let n = 0; n < 3; n++) {
      const jacobian = rows.map((r) => r[n]); // J[i][j] = ∂z_i/∂x_j
      expect(Math.abs(logAbsDet(jacobian) - reported[n])).toBeLessThan(2e-3);
    }
    tf.dispose([first, x, z, logDet]);
    flow.dispose();
  });

  it('initialises ActNorm from the first batch only: that batch leaves it with mean 0 and std 1', async () => {
    const { flow, first } = initialisedFlow(small, 6);
    const w = await weightsByName(flow);
    const data = (await first.array()) as number[][];
    for (let d = 0; d < 6; d++) {
      const column = data.map((r) => r[d]);
      const mean = column.reduce((a, b) => a + b, 0) / column.length;
      const std = Math.sqrt(column.reduce((a, b) => a + (b - mean) ** 2, 0) / column.length);
      expect(w.get('unit0/actnorm/loc')![d]).toBeCloseTo(-mean, 4);
      expect(w.get('unit0/actnorm/scale')![d]).toBeCloseTo(1 / (std + 1e-6), 3);
      const normed = column.map((v) => w.get('unit0/actnorm/scale')![d] * (v + w.get('unit0/actnorm/loc')![d]));
      const nMean = normed.reduce((a, b) => a + b, 0) / normed.length;
      const nStd = Math.sqrt(normed.reduce((a, b) => a + (b - nMean) ** 2, 0) / normed.length);
      expect(Math.abs(nMean)).toBeLessThan(1e-4);
      expect(Math.abs(nStd - 1)).toBeLessThan(1e-4);
    }
    expect(w.get('unit2/actnorm/initialized')![0]).toBe(1);
    const other = seededTensor([8, 6], 99, 10);
    tf.dispose(flow.apply(other) as tf.Tensor);
    const after = await weightsByName(flow);
    expect(Array.from(after.get('unit0/actnorm/loc')!)).toEqual(Array.from(w.get('unit0/actnorm/loc')!));
    expect(Array.from(after.get('unit1/actnorm/scale')!)).toEqual(Array.from(w.get('unit1/actnorm/scale')!));
    tf.dispose([first, other]);
    flow.dispose();
  });

  it('ActNorm gives the first batch mean 0 and std 1 per dimension, in tensors', async () => {
    const addWeight = (name: string, shape: number[], init: ReturnType<typeof tfl.initializers.zeros>, trainable: boolean) =>
      new tfl.LayerVariable(init.apply(shape), 'float32', name, trainable);
    const norm = new ActNorm(5, 'actnorm_test', addWeight);
    const x = tf.add(seededTensor([40, 5], 4, 4), tf.tensor1d([3, -2, 0, 10, 1])) as tf.Tensor2D;
    norm.initializeFrom(x);
    const { y, logDet } = tf.tidy(() => norm.forward(x));
    const { mean, variance } = tf.moments(y, 0);
    await expectClose(tf.add(mean, 1), tf.ones([5]), 1e-5);
    await expectClose(tf.sqrt(variance), tf.ones([5]), 1e-4);
    const back = tf.tidy(() => norm.inverse(y));
    await expectClose(back, x, 1e-5);
    tf.dispose([x, y, logDet, mean, variance, back]);
  });

  it('has input gradients equal to finite differences', async () => {
    const { flow, first } = initialisedFlow();
    const x = seededTensor([2, 4], 21, 1);
    const weights = seededTensor([2, 4], 22, 1);
    const f = (input: tf.Tensor) => {
      const { z, logDet } = flow.forwardWithLogDet(input);
      return tf.add(tf.sum(tf.mul(z, weights)), tf.mul(0.5, tf.sum(logDet))) as tf.Scalar;
    };
    const analytic = tf.grad(f)(x);
    const numeric = await finiteDifferenceGradient(f, x, 1e-2);
    await expectClose(analytic, numeric, 5e-3);
    tf.dispose([first, x, weights, analytic]);
    flow.dispose();
  });

  it('trains with fit inside a Sequential model and predicts like its parts inside a functional one', async () => {
    const x = seededTensor([32, 6], 31, 1);
    const labels = tf.oneHot(tf.tensor1d(Array.from({ length: 32 }, (_, i) => i % 3), 'int32'), 3);
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [6], units: 4 }),
        layers.invertibleConceptFlow({ flows: 2, hidden: 8, depth: 1, seed: 2 }),
        tfl.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.02), loss: 'categoricalCrossentropy' });
    const flowKernel = model.layers[1].weights.find((w) => w.originalName.endsWith('unit0/coupling/s0/dense0/kernel'))!;
    const before = await flowKernel.read().data();
    const history = await model.fit(x, labels, { epochs: 15, batchSize: 32, verbose: 0 });
    const losses = history.history.loss as number[];
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.8);
    expect(Array.from(await flowKernel.read().data())).not.toEqual(Array.from(before));

    const input = tfl.input({ shape: [6] });
    const dense = tfl.layers.dense({ units: 4 });
    const flow = layers.invertibleConceptFlow({ flows: 2, hidden: 8, depth: 1, seed: 2 });
    const functional = tfl.model({ inputs: input, outputs: flow.apply(dense.apply(input)) as tfl.SymbolicTensor });
    const viaModel = functional.predict(x) as tf.Tensor;
    const viaParts = tf.tidy(() => flow.forwardWithLogDet(dense.apply(x) as tf.Tensor).z);
    await expectClose(viaModel, viaParts, 1e-6);
    tf.dispose([x, labels, viaModel, viaParts]);
    model.dispose();
    functional.dispose();
  });

  it('survives a save/load round trip without re-initialising ActNorm', async () => {
    const model = tfl.sequential({ layers: [layers.invertibleConceptFlow({ flows: 2, hidden: 8, depth: 1, factors: [1, 1], inputShape: [4] })] });
    const first = tf.add(seededTensor([16, 4], 41, 2), 5);
    tf.dispose(model.predict(first) as tf.Tensor);
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    const other = seededTensor([6, 4], 42, 1); // a different first batch for the loaded model
    const expected = model.predict(other) as tf.Tensor;
    const actual = loaded.predict(other) as tf.Tensor;
    await expectClose(actual, expected, 1e-6);
    const loadedFlow = loaded.layers[0] as InvertibleConceptFlow;
    expect(loadedFlow.getConfig().permutations).toEqual(model.layers[0].getConfig().permutations);
    expect(loadedFlow.factorSizes).toEqual([1, 1, 2]);
    const back = loadedFlow.inverse(actual);
    await expectClose(back, other, 1e-4);
    tf.dispose([first, other, expected, actual, back]);
    model.dispose();
    loaded.dispose();
  });

  it('moves one factor to the source and keeps the others (transferFactor, splitFactors)', async () => {
    const { flow, first } = initialisedFlow({ ...small, factors: [2] });
    const x = seededTensor([4, 4], 51, 1);
    const source = seededTensor([4, 4], 52, 1);
    const [zx, zs, zr, zh] = tf.tidy(() => [
      flow.forwardWithLogDet(x).z,
      flow.forwardWithLogDet(source).z,
      flow.forwardWithLogDet(flow.transferFactor(x, source, 0)).z,
      flow.forwardWithLogDet(flow.transferFactor(x, source, 1, 0.5)).z,
    ]);
    const [px, ps, pr, ph] = [zx, zs, zr, zh].map((z) => flow.splitFactors(z));
    await expectClose(pr[0], ps[0], 1e-4);
    await expectClose(pr[1], px[1], 1e-4);
    await expectClose(ph[0], px[0], 1e-4);
    await expectClose(ph[1], tf.tidy(() => tf.mul(0.5, tf.add(px[1], ps[1]))), 1e-4);
    tf.dispose([first, x, source, zx, zs, zr, zh, ...px, ...ps, ...pr, ...ph]);
    flow.dispose();
  });

  it('leaks no tensor in any public method, on success and on error', async () => {
    const { flow, first } = initialisedFlow({ ...small, factors: [1] });
    const x = seededTensor([3, 4], 61, 1);
    await expectNoLeak(() => flow.forwardWithLogDet(x));
    await expectNoLeak(() => flow.inverse(x));
    await expectNoLeak(() => flow.apply(x));
    await expectNoLeak(() => flow.splitFactors(x));
    await expectNoLeak(() => flow.transferFactor(x, x, 1, 0.3));
    const before = tf.memory().numTensors;
    expect(() => flow.transferFactor(x, x, 2)).toThrow(/factor index below 2 \(factor sizes \[1, 3\]\), got 2/);
    expect(() => flow.forwardWithLogDet(tf.zeros([2, 6]))).toThrow(/expected \[batch, 4\]/);
    expect(tf.memory().numTensors).toBe(before + 1); // only the zeros made for the call
    tf.dispose([first, x]);
    flow.dispose();
  });

  it('builds on first direct use with scoped weight names and without initialising ActNorm on that call', async () => {
    const flow = layers.invertibleConceptFlow({ ...small, name: 'direct_flow' });
    const x = tf.add(seededTensor([8, 4], 71, 2), 3);
    const back = flow.inverse(x); // builds; ActNorm untouched: identity scale, zero shift
    const w = await weightsByName(flow);
    expect(flow.weights[0].originalName).toBe('direct_flow/unit0/actnorm/loc');
    expect(Array.from(w.get('unit0/actnorm/scale')!)).toEqual([1, 1, 1, 1]);
    expect(w.get('unit0/actnorm/initialized')![0]).toBe(0);
    const { z, logDet } = flow.forwardWithLogDet(x); // the first forward batch initialises
    expect((await weightsByName(flow)).get('unit0/actnorm/initialized')![0]).toBe(1);
    tf.dispose([x, back, z, logDet]);
    flow.dispose();
  });

  it('rejects bad configs with clear errors', () => {
    expect(() => layers.invertibleConceptFlow({ flows: 0 })).toThrow(/config.flows: expected an integer >= 1, got 0/);
    expect(() => layers.invertibleConceptFlow({ hidden: 2.5 })).toThrow(/config.hidden/);
    expect(() => layers.invertibleConceptFlow({ factors: [2, 0] })).toThrow(/config.factors: expected an array of positive integer/);
    expect(() => tfl.sequential({ layers: [layers.invertibleConceptFlow({ inputShape: [5] })] })).toThrow(/even dimension D .* got D = 5/);
    expect(() => tfl.sequential({ layers: [layers.invertibleConceptFlow({ factors: [3, 4], inputShape: [6] })] })).toThrow(
      /config.factors: the factor sizes \[3, 4\] add up to 7, more than the representation's D = 6/,
    );
    expect(() => tfl.sequential({ layers: [layers.invertibleConceptFlow({ inputShape: [2, 4] })] })).toThrow(/expects \[batch, D\] vectors/);
    expect(() => tfl.sequential({ layers: [layers.invertibleConceptFlow({ flows: 1, permutations: [[0, 0, 1, 2]], inputShape: [4] })] })).toThrow(
      /config.permutations\[0\]: expected a permutation of 0..3/,
    );
    expect(() => layers.invertibleConceptFlow({ flows: 2, permutations: [[0, 1]] })).toThrow(/config.permutations: expected 2 permutations/);
    // ActNorm's data-dependent initialisation needs a batch with a spread (one example has std 0).
    const flow = layers.invertibleConceptFlow({ flows: 1, hidden: 4, seed: 1 });
    flow.build([null, 4]);
    const one = tf.ones([1, 4]);
    const before = tf.memory().numTensors;
    expect(() => flow.forwardWithLogDet(one)).toThrow(/x: ActNorm initialises from the first batch's mean and standard deviation and needs at least 2 examples, got 1/);
    expect(tf.memory().numTensors).toBe(before);
    one.dispose();
  });
});
