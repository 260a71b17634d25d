/**
 * Shapley value sampling and KernelSHAP: exact on linear models, the seeded estimates recomputed in plain
 * JS (permutations, coalitions, float64 regression) on an interaction model whose Shapley values are
 * known in closed form, efficiency, several inputs, determinism, leaks, abort and bad input.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { kernelShap, shapleyValueSampling } from '../../src/index';
import { kernelShapSampler } from '../../src/attribution/perturbation/kernel-shap';
import { randomPermutation } from '../../src/attribution/perturbation/mask-random';
import { deriveSeed, mulberry32 } from '../../src/core/seeded-random';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak, seededTensor } from '../helpers';
import { setSeededWeights, smoothMlp } from '../helpers/models';
import { leastSquaresKkt } from './surrogate-reference';

/** `f(x) = Σ w ⊙ x` per example, one output. */
function linear(weights: tf.Tensor): (x: tf.Tensor) => tf.Tensor {
  return (x) => tf.reshape(tf.sum(tf.mul(x, weights), 1), [-1, 1]);
}

/** The interaction game `f(x) = x₀ x₁ + x₂`: Shapley values (baseline 0) ½x₀x₁, ½x₀x₁, x₂. */
const interaction = (x: tf.Tensor) => {
  const [a, b, c] = tf.split(x, 3, 1);
  return tf.add(tf.mul(a, b), c);
};
const game = (v: number[]) => v[0] * v[1] + v[2];

/** Σ over the groups (each counted once) of one example's attribution. */
function groupSum(values: ArrayLike<number>, ids: number[], offset = 0): number {
  const seen = new Map<number, number>();
  ids.forEach((id, j) => seen.set(id, values[offset + j]));
  return [...seen.values()].reduce((a, b) => a + b, 0);
}

describe('shapleyValueSampling and kernelShap on linear models', () => {
  it('are exact: the group sum of w ⊙ (x − b), for any seed and number of samples', async () => {
    const x = seededTensor([2, 6], 1);
    const weights = seededTensor([1, 6], 2);
    const baseline = seededTensor([1, 6], 3);
    const ids = [0, 0, 1, 2, 2, 3];
    const [xs, ws, bs] = [await x.data(), await weights.data(), await baseline.data()];
    const expected = Array.from(xs, (_, k) => {
      const [e, j] = [Math.floor(k / 6), k % 6];
      let sum = 0;
      for (let i = 0; i < 6; i++) if (ids[i] === ids[j]) sum += ws[i] * (xs[e * 6 + i] - bs[i]);
      return sum;
    });
    const svs = await expectNoLeak(() => shapleyValueSampling(linear(weights), x, { baseline, featureMask: ids, samples: 3, seed: 1, batchSize: 4 }));
    await expectClose(svs, expected, 1e-5);
    const ks = await expectNoLeak(() => kernelShap(linear(weights), x, { baseline, featureMask: ids, samples: 40, seed: 2, batchSize: 9 }));
    await expectClose(ks, expected, 1e-4);
    [x, weights, baseline, svs, ks].forEach((t) => t.dispose());
  });
});

describe('shapleyValueSampling', () => {
  it('is the mean marginal gain over its seeded permutations, near the closed-form Shapley values', async () => {
    const point = [1.5, -2, 0.75];
    const x = tf.tensor2d([point]);
    const [samples, seed] = [300, 4];
    const result = await expectNoLeak(() => shapleyValueSampling(interaction, x, { samples, seed }));
    const sampled = [0, 0, 0];
    for (let s = 0; s < samples; s++) {
      const order = randomPermutation(3, mulberry32(deriveSeed(seed, s)));
      const present = [0, 0, 0];
      let previous = game(present);
      for (const g of order) {
        present[g] = point[g];
        const current = game(present);
        sampled[g] += (current - previous) / samples;
        previous = current;
      }
    }
    await expectClose(result, sampled, 1e-5);
    const half = (point[0] * point[1]) / 2;
    const values = await result.data();
    [half, half, point[2]].forEach((v, i) => expect(Math.abs(values[i] - v)).toBeLessThan(0.1 * Math.abs(half)));
    [x, result].forEach((t) => t.dispose());
  });

  it('is efficient on a non-linear model, independent of batchSize and of the batch, and reports its passes', async () => {
    const model = smoothMlp(5, 3, 5);
    const x = seededTensor([3, 5], 6);
    const ids = [[0, 1, 1, 2, 2]];
    const progress: number[] = [];
    const a = await shapleyValueSampling(model, x, { target: 1, featureMask: ids, samples: 4, seed: 7, baseline: 0.2, batchSize: 3, onProgress: (d) => progress.push(d) });
    // 3 examples × (2 + 4 · (3 − 1)) passes.
    expect(progress.at(-1)).toBe(30);
    const b = await shapleyValueSampling(model, x, { target: 1, featureMask: ids, samples: 4, seed: 7, baseline: 0.2 });
    await expectClose(a, b, 1e-5);
    const last = tf.slice(x, 2, 1);
    const alone = await shapleyValueSampling(model, last, { target: 1, featureMask: ids, samples: 4, seed: 7, baseline: 0.2 });
    await expectClose(alone, tf.slice(a, 2, 1), 1e-5);
    const scores = tf.tidy(() => tf.sub(tf.slice(model.predict(x) as tf.Tensor, [0, 1], [-1, 1]), tf.slice(model.predict(tf.fill([3, 5], 0.2)) as tf.Tensor, [0, 1], [-1, 1])));
    const [values, deltas] = [await a.data(), await scores.data()];
    [0, 1, 2].forEach((e) => expect(groupSum(values, ids[0], 5 * e)).toBeCloseTo(deltas[e], 5));
    const controller = new AbortController();
    await expectRejectsWithoutLeak(
      () => shapleyValueSampling(model, x, { target: 1, samples: 3, batchSize: 4, signal: controller.signal, onProgress: () => controller.abort() }),
      /aborted/,
    );
    await expectRejectsWithoutLeak(() => shapleyValueSampling(model, x, { target: 1, samples: 0 }), /options\.samples: expected an integer >= 1, got 0/);
    await expectRejectsWithoutLeak(() => shapleyValueSampling(model, x, { target: 1, n_samples: 5 } as never), /options\.n_samples: unknown option; Captum's\/Zennit's 'n_samples' is called 'samples' here/);
    [x, a, b, last, alone, scores].forEach((t) => t.dispose());
    model.dispose();
  });
});

describe('kernelShap', () => {
  it("is the constrained regression on its seeded coalitions (float64 KKT), near the closed-form Shapley values", async () => {
    const point = [1.5, -2, 0.75];
    const x = tf.tensor2d([point]);
    const [samples, seed] = [300, 8];
    const result = await expectNoLeak(() => kernelShap(interaction, x, { samples, seed, batchSize: 64 }));
    const sample = kernelShapSampler(seed);
    const z: number[][] = [];
    const y: number[] = [];
    for (let s = 2; s < samples; s++) {
      const row = new Float32Array(3);
      sample(3, s, row, 0);
      z.push(Array.from(row));
      y.push(game(point.map((v, j) => v * row[j])));
    }
    expect(z.every((row) => row.some((v) => v === 1) && row.some((v) => v === 0))).toBe(true);
    await expectClose(result, leastSquaresKkt(z, y, new Array(y.length).fill(1), game(point)), 1e-4);
    const half = (point[0] * point[1]) / 2;
    const values = await result.data();
    [half, half, point[2]].forEach((v, i) => expect(Math.abs(values[i] - v)).toBeLessThan(0.1 * Math.abs(half)));
    [x, result].forEach((t) => t.dispose());
  });

  it('sums to f(x) − f(b) exactly, also underdetermined or with the fixed coalitions alone, and groups ids across inputs', async () => {
    const model = smoothMlp(6, 3, 9);
    const x = seededTensor([2, 6], 10);
    for (const samples of [30, 4, 2]) {
      const phi = await expectNoLeak(() => kernelShap(model, x, { target: 2, samples, seed: 11 }));
      const delta = tf.tidy(() => tf.sub(tf.slice(model.predict(x) as tf.Tensor, [0, 2], [-1, 1]), tf.slice(model.predict(tf.zeros([2, 6])) as tf.Tensor, [0, 2], [-1, 1])));
      const [values, deltas] = [await phi.data(), await delta.data()];
      [0, 1].forEach((e) => expect(Array.from(values.slice(6 * e, 6 * e + 6)).reduce((p, q) => p + q, 0)).toBeCloseTo(deltas[e], 4));
      [phi, delta].forEach((t) => t.dispose());
    }
    // Two inputs, id 1 spanning both.
    const a = tfl.input({ shape: [3] });
    const b = tfl.input({ shape: [2] });
    const joined = tfl.layers.concatenate().apply([a, b]) as tfl.SymbolicTensor;
    const two = setSeededWeights(tfl.model({ inputs: [a, b], outputs: tfl.layers.dense({ units: 1, activation: 'tanh' }).apply(joined) as tfl.SymbolicTensor }), 12, 0.9);
    const xa = seededTensor([1, 3], 13);
    const xb = seededTensor([1, 2], 14);
    tf.dispose(two.predict([xa, xb]));
    const [pa, pb] = await expectNoLeak(() => kernelShap(two, [xa, xb], { featureMask: [[0, 1, 2], [1, 3]], samples: 50, seed: 15 }));
    const [va, vb] = [await pa.data(), await pb.data()];
    expect(va[1]).toBe(vb[0]);
    const f = tf.tidy(() => tf.sub(two.predict([xa, xb]) as tf.Tensor, two.predict([tf.zeros([1, 3]), tf.zeros([1, 2])]) as tf.Tensor));
    expect(va[0] + va[1] + va[2] + vb[1]).toBeCloseTo((await f.data())[0], 5);
    [x, xa, xb, pa, pb, f].forEach((t) => t.dispose());
    model.dispose();
    two.dispose();
  });

  it('is deterministic per seed and batch position, aborts without leaks and rejects too few samples', async () => {
    const model = smoothMlp(4, 2, 16);
    const x = seededTensor([3, 4], 17);
    const a = await kernelShap(model, x, { target: 0, samples: 12, seed: 18, batchSize: 5 });
    const b = await kernelShap(model, x, { target: 0, samples: 12, seed: 18 });
    await expectClose(a, b, 1e-5);
    const first = tf.slice(x, 0, 1);
    const alone = await kernelShap(model, first, { target: 0, samples: 12, seed: 18 });
    await expectClose(alone, tf.slice(a, 0, 1), 1e-5);
    const controller = new AbortController();
    await expectRejectsWithoutLeak(
      () => kernelShap(model, x, { target: 0, samples: 12, batchSize: 6, signal: controller.signal, onProgress: () => controller.abort() }),
      /aborted/,
    );
    await expectRejectsWithoutLeak(() => kernelShap(model, x, { target: 0, samples: 1 }), /options\.samples: expected an integer >= 2, got 1/);
    await expectRejectsWithoutLeak(() => kernelShap(model, x, { target: 0, featureMask: [[0, 1]] }), /options\.featureMask: expected ids shaped like one example \[4\]/);
    [x, a, b, first, alone].forEach((t) => t.dispose());
    model.dispose();
  });
});
