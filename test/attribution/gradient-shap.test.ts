/**
 * GradientSHAP: the per-draw formula reconstructed exactly from the seeded draws on a model with a
 * closed-form gradient, the expectation on a linear model, several inputs, independence from the
 * chunking, and the engine's contract.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { gradientShap } from '../../src/index';
import { gradientShapDraw } from '../../src/attribution/gradient-shap';
import { seededNormal } from '../../src/core/seeded-random';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak, seededTensor } from '../helpers';

/** f(x) = Σ_i c_i x_i² + w_i x_i per example (∇f(p) = 2c ⊙ p + w), as a function model with one output. */
function quadratic(c: tf.Tensor, w: tf.Tensor) {
  return (v: tf.Tensor) => tf.sum(tf.add(tf.mul(c, tf.square(v)), tf.mul(w, v)), 1, true);
}

describe('gradientShap', () => {
  it('is the mean over seeded draws of (x̃ − b) ⊙ ∇f(b + α(x̃ − b)), reconstructed draw by draw', async () => {
    const [N, D, B, S, seed, stdev] = [3, 4, 5, 7, 42, 0.3];
    const c = seededTensor([D], 1, 1);
    const w = seededTensor([D], 2, 1);
    const x = seededTensor([N, D], 3, 2);
    const baselines = seededTensor([B, D], 4, 1);
    const [C, W, X, Bs] = await Promise.all([c, w, x, baselines].map((t) => t.data()));
    const expected = new Float64Array(N * D);
    const used = new Set<number>();
    for (let e = 0; e < N; e++) {
      for (let s = 0; s < S; s++) {
        const { baseline: j, alpha } = gradientShapDraw(seed, e, s, B);
        expect(alpha).toBeGreaterThanOrEqual(0);
        expect(alpha).toBeLessThan(1);
        used.add(j);
        const noise = seededNormal([D], seed, e, s, 0);
        const eps = await noise.data();
        noise.dispose();
        for (let i = 0; i < D; i++) {
          const noisy = X[e * D + i] + stdev * eps[i];
          const b = Bs[j * D + i];
          const point = b + alpha * (noisy - b);
          expected[e * D + i] += ((noisy - b) * (2 * C[i] * point + W[i])) / S;
        }
      }
    }
    expect(used.size).toBeGreaterThan(2);
    const f = quadratic(c, w);
    const attribution = await expectNoLeak(() => gradientShap(f, x, { baselines, samples: S, stdev, seed }));
    await expectClose(attribution, expected, 1e-5);
    // The chunking changes nothing; another seed changes the draws.
    for (const batchSize of [1, 4, 21]) {
      const chunked = await gradientShap(f, x, { baselines, samples: S, stdev, seed, batchSize });
      await expectClose(chunked, attribution, 1e-6);
      chunked.dispose();
    }
    const other = await gradientShap(f, x, { baselines, samples: S, stdev, seed: seed + 1 });
    expect(Array.from(await other.data())).not.toEqual(Array.from(await attribution.data()));
    tf.dispose([c, w, x, baselines, attribution, other]);
  });

  it('on a linear model: (x − E[b]) ⊙ w in expectation; several inputs share the draws; a LayersModel agrees', async () => {
    const wa = tf.tensor1d([0.5, -1, 2]);
    const wb = tf.tensor1d([1.5, -0.25]);
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.add(tf.sum(tf.mul(a, wa), 1, true), tf.sum(tf.mul(b, wb), 1, true));
    const x = [tf.tensor2d([[1, 2, 3], [-1, 0, 1]]), tf.tensor2d([[0.5, -0.5], [2, 1]])];
    const sets = [seededTensor([6, 3], 5, 1), seededTensor([6, 2], 6, 1)];
    const samples = 600;
    const [a, b] = await expectNoLeak(() => gradientShap(f, x, { baselines: sets, samples, seed: 3 }));
    // Exactly: (x − mean of the drawn baselines) ⊙ w, the same draws for both inputs.
    const [A, Bb] = await Promise.all(sets.map((t) => t.data()));
    const [Xa, Xb] = await Promise.all(x.map((t) => t.data()));
    const meanOf = (values: ArrayLike<number>, width: number, e: number) => {
      const mean = new Array<number>(width).fill(0);
      for (let s = 0; s < samples; s++) {
        const { baseline } = gradientShapDraw(3, e, s, 6);
        for (let i = 0; i < width; i++) mean[i] += values[baseline * width + i] / samples;
      }
      return mean;
    };
    const WA = [0.5, -1, 2];
    const WB = [1.5, -0.25];
    const exactA = [0, 1].flatMap((e) => meanOf(A, 3, e).map((m, i) => (Xa[e * 3 + i] - m) * WA[i]));
    const exactB = [0, 1].flatMap((e) => meanOf(Bb, 2, e).map((m, i) => (Xb[e * 2 + i] - m) * WB[i]));
    await expectClose(a, exactA, 1e-5);
    await expectClose(b, exactB, 1e-5);
    // In expectation: the mean of the set.
    const expectation = tf.tidy(() => [tf.mul(tf.sub(x[0], tf.mean(sets[0], 0)), wa), tf.mul(tf.sub(x[1], tf.mean(sets[1], 0)), wb)]);
    await expectClose(a, expectation[0], 0.05);
    await expectClose(b, expectation[1], 0.05);
    // The same function as a two-input LayersModel gets the same draws and values.
    const inputs = [tfl.input({ shape: [3] }), tfl.input({ shape: [2] })];
    const merged = tfl.layers.concatenate().apply(inputs) as tfl.SymbolicTensor;
    const kernel = tf.tensor2d([...WA, ...WB], [5, 1]);
    const dense = tfl.layers.dense({ units: 1, useBias: false, weights: [kernel] });
    const layers = tfl.model({ inputs, outputs: dense.apply(merged) as tfl.SymbolicTensor });
    const [la, lb] = await expectNoLeak(() => gradientShap(layers, x, { baselines: sets, samples, seed: 3 }));
    await expectClose(la, exactA, 1e-5);
    await expectClose(lb, exactB, 1e-5);
    layers.dispose();
    tf.dispose([wa, wb, kernel, ...x, ...sets, a, b, la, lb, ...expectation]);
  });

  it('reports progress in model rows, aborts, and rejects bad options without leaking', async () => {
    const w = tf.tensor1d([1, -1]);
    const f = (v: tf.Tensor) => tf.sum(tf.mul(tf.tanh(v), w), 1, true);
    const x = seededTensor([2, 2], 1);
    const set = seededTensor([3, 2], 2);
    const progress: number[] = [];
    const result = await gradientShap(f, x, { baselines: set, samples: 3, seed: 1, batchSize: 4, onProgress: (done: number, total: number) => progress.push(done / total) });
    expect(progress).toEqual([4 / 6, 1]);
    const controller = new AbortController();
    await expectRejectsWithoutLeak(
      () => gradientShap(f, x, { baselines: set, samples: 3, batchSize: 2, signal: controller.signal, onProgress: () => controller.abort() }),
      /aborted/,
    );
    const wrong = tf.ones([3, 3]);
    const empty = tf.zeros([0, 2]);
    await expectRejectsWithoutLeak(() => gradientShap(f, x), /options\.baselines: is required/);
    await expectRejectsWithoutLeak(() => gradientShap(f, x, { baselines: wrong }), /options\.baselines: expected shape \[B, 2\]/);
    await expectRejectsWithoutLeak(() => gradientShap(f, x, { baselines: empty }), /options\.baselines: the set is empty/);
    await expectRejectsWithoutLeak(() => gradientShap(f, x, { baselines: [set, set] }), /options\.baselines: expected a tensor \[B, 2\]/);
    await expectRejectsWithoutLeak(() => gradientShap(f, x, { baselines: set, samples: 0 }), /options\.samples: expected an integer >= 1/);
    await expectRejectsWithoutLeak(() => gradientShap(f, x, { baselines: set, stdev: -1 }), /options\.stdev: expected a number in \[0/);
    await expectRejectsWithoutLeak(() => gradientShap(f, x, { baselines: set, stdev: [0.1, 0.2] }), /options\.stdev: expected a number, or one per model input \(1\)/);
    await expectRejectsWithoutLeak(() => gradientShap(f, x, { baselines: set, nSamples: 3 } as never), /options\.nSamples: unknown option; Captum's\/Zennit's 'nSamples' is called 'samples' here/);
    await expectRejectsWithoutLeak(() => gradientShap(f, x, { baselines: set, stdevs: 0.1 } as never), /options\.stdevs: unknown option; Captum's\/Zennit's 'stdevs' is called 'stdev' here/);
    tf.dispose([w, x, set, result, wrong, empty]);
  });
});
