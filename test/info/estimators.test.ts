import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { info } from '../../src/index';
import { normalScores } from '../../src/info/normal-quantile';
import { expectNoLeak, expectRejectsWithoutLeak } from '../helpers';
import {
  referenceBias,
  referenceCMI,
  referenceCopnorm,
  referenceEntropy,
  referenceGccmi,
  referenceGccmiDiscrete,
  referenceGcmi,
  referenceGcmiDiscrete,
  referenceMI,
  referenceNormalScores,
} from './reference';
import { balancedLabels, block, columns, mixedGaussian, near } from './samples';

/**
 * Tolerance of the backend (float32) against the float64 reference, in bits: measured differences are
 * below 3e-7 bits on cpu and wasm (N = 200 and 2000); the margin is for webgl's transcendental functions.
 */
const BITS = 1e-4;

// x (2 dims), y (1 dim), z (1 dim) with known dependence.
const N = 240;
const MIXING = [
  [1, 0, 0, 0],
  [0.4, 0.9, 0, 0],
  [0.6, -0.3, 0.7, 0],
  [0.2, 0.5, 0.3, 0.8],
];
const data = mixedGaussian(N, MIXING, 11);
const cols = columns(data, N, 4);
const [X, Y, Z] = [cols.slice(0, 2), cols.slice(2, 3), cols.slice(3, 4)];
const tensors = () => ({ x: block(data, N, 4, 0, 2), y: block(data, N, 4, 2, 1), z: block(data, N, 4, 3, 1) });

afterEach(() => {
  vi.restoreAllMocks();
});

describe('copnorm', () => {
  it('gives normal scores Φ⁻¹(r/(N+1)) to float32 precision (AS 241 vs float64 bisection)', async () => {
    for (const n of [7, 1000, 4999]) {
      const scores = normalScores(n);
      const got = await scores.data();
      scores.dispose();
      const expected = referenceNormalScores(n);
      let worst = 0;
      // Relative error, except next to the median where |Φ⁻¹| → 0 (absolute 1e-7 there).
      got.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - expected[i]) / Math.max(Math.abs(expected[i]), 0.25))));
      expect(worst).toBeLessThan(1e-6);
      // Exact antisymmetry.
      expect(got[0]).toBe(-got[n - 1]);
    }
  });

  it('transforms every column by its stable ranks (ties in sample order, as gcmi)', async () => {
    const values = [3, 1, 2, 2, 5, -1, 2, 0, 4, 7, 1.5, 6];
    const n = values.length / 2;
    const x = tf.tensor2d(values, [n, 2]);
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const result = await expectNoLeak(() => info.copnorm(x));
    expect(result.shape).toEqual([n, 2]);
    const expected = referenceCopnorm(columns(values, n, 2));
    const got = columns(await result.data(), n, 2);
    got.forEach((column, c) => column.forEach((v, i) => expect(v).toBeCloseTo(expected[c][i], 5)));
    tf.dispose([x, result]);
  });

  it('accepts one variable [N] and returns [N, 1]', async () => {
    const x = tf.tensor1d([0.3, -2, 5, 1]);
    const result = info.copnorm(x);
    expect(result.shape).toEqual([4, 1]);
    const expected = referenceCopnorm([[0.3, -2, 5, 1]])[0];
    (await result.data()).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    tf.dispose([x, result]);
  });

  it('warns once about ties, naming the argument and the share; jitter breaks them at random, seeded', async () => {
    const values = [0, 0, 0, 1, 0, 2, 0, 3, 0, 4];
    const x = tf.tensor1d(values);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    tf.dispose(info.copnorm(x));
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/x: 50\.0 % of the values repeat/);
    const a = info.copnorm(x, { jitter: true, seed: 3 });
    const b = info.copnorm(x, { jitter: true, seed: 3 });
    const c = info.copnorm(x, { jitter: true, seed: 4 });
    const [va, vb, vc] = [await a.data(), await b.data(), await c.data()];
    expect(Array.from(va)).toEqual(Array.from(vb));
    expect(Array.from(va)).not.toEqual(Array.from(vc));
    // Distinct values keep their scores; the zeros share the five lowest scores in some order.
    const scores = referenceCopnorm([values])[0];
    const zeros = values.flatMap((v, i) => (v === 0 ? [i] : []));
    for (const got of [va, vc]) {
      values.forEach((v, i) => v !== 0 && expect(got[i]).toBeCloseTo(scores[i], 5));
      expect(zeros.map((i) => got[i]).sort((p, q) => p - q)).toEqual(
        expect.arrayContaining(zeros.map((i) => expect.closeTo(scores[i], 5))),
      );
    }
    tf.dispose([x, a, b, c]);
  });

  it('keeps the scores of distinct values under jitter, in every column', async () => {
    const n = 40;
    const values = Array.from({ length: n * 3 }, (_, i) => (i % 3 === 1 ? Math.max(0, Math.sin(i)) : Math.round(5 * Math.cos(1.3 * i))));
    const x = tf.tensor2d(values, [n, 3]);
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const result = info.copnorm(x, { jitter: true, seed: 9 });
    const got = columns(await result.data(), n, 3);
    columns(values, n, 3).forEach((column, c) => {
      const scores = referenceCopnorm([column])[0];
      // Sorting by value, the jittered scores must increase along the stable order wherever the values differ.
      const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => column[a] - column[b] || a - b);
      for (let j = 1; j < n; j++) {
        const [a, b] = [order[j - 1], order[j]];
        if (column[a] < column[b]) expect(got[c][a]).toBeLessThan(got[c][b]);
      }
      // The multiset of scores is unchanged.
      expect(Array.from(got[c]).sort((p, q) => p - q).map((v) => v.toFixed(4))).toEqual(Array.from(scores).sort((p, q) => p - q).map((v) => v.toFixed(4)));
    });
    tf.dispose([x, result]);
  });

  it('rejects wrong ranks and non-finite values', () => {
    const before = tf.memory().numTensors;
    const cube = tf.zeros([2, 2, 2]);
    expect(() => info.copnorm(cube)).toThrow(/x: expected samples on the first axis, shape \[N\].*got rank 3/);
    const bad = tf.tensor1d([1, NaN, 2]);
    expect(() => info.copnorm(bad)).toThrow(/x: contains NaN/);
    tf.dispose([cube, bad]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('Gaussian estimators against the float64 reference', () => {
  it('gaussianEntropy, gaussianMI and gaussianCMI, with and without bias correction', async () => {
    const { x, y, z } = tensors();
    for (const biasCorrect of [true, false]) {
      const h = await expectNoLeak(() => info.gaussianEntropy(x, { biasCorrect }));
      expect(near(h, referenceEntropy(X, biasCorrect), BITS, 1e-5), `entropy ${h}`).toBe(true);
      const mi = await expectNoLeak(() => info.gaussianMI(x, y, { biasCorrect }));
      expect(near(mi, referenceMI(X, Y, biasCorrect), BITS), `mi ${mi} vs ${referenceMI(X, Y, biasCorrect)}`).toBe(true);
      const cmi = await expectNoLeak(() => info.gaussianCMI(x, y, z, { biasCorrect }));
      expect(near(cmi, referenceCMI(X, Y, Z, biasCorrect), BITS), `cmi ${cmi}`).toBe(true);
    }
    // The plug-in entropy underestimates: B(N, d) < 0, the corrected value is larger.
    expect(referenceBias(N, 2)).toBeLessThan(0);
    expect(await info.gaussianEntropy(x)).toBeGreaterThan(await info.gaussianEntropy(x, { biasCorrect: false }));
    tf.dispose([x, y, z]);
  });

  it('bivariate Gaussian: I = −½ log₂(1 − r²) plus the bias terms (closed form)', async () => {
    const n = 300;
    const rows = mixedGaussian(n, [[1, 0], [0.8, 0.6]], 5);
    const [a, b] = columns(rows, n, 2);
    const mean = (v: Float64Array) => v.reduce((s, t) => s + t, 0) / n;
    const [ma, mb] = [mean(a), mean(b)];
    let [sab, saa, sbb] = [0, 0, 0];
    a.forEach((_, i) => {
      sab += (a[i] - ma) * (b[i] - mb);
      saa += (a[i] - ma) ** 2;
      sbb += (b[i] - mb) ** 2;
    });
    const r2 = (sab * sab) / (saa * sbb);
    const bias = (-2 * referenceBias(n, 1) + referenceBias(n, 2)) / Math.LN2;
    const [x, y] = [block(rows, n, 2, 0, 1), block(rows, n, 2, 1, 1)];
    expect(near(await info.gaussianMI(x, y), -0.5 * Math.log2(1 - r2) + bias, BITS)).toBe(true);
    expect(near(await info.gaussianMI(x, y, { biasCorrect: false }), -0.5 * Math.log2(1 - r2), BITS)).toBe(true);
    // One-dimensional y as [N] gives the same.
    const y1 = tf.reshape(y, [n]);
    expect(near(await info.gaussianMI(x, y1), -0.5 * Math.log2(1 - r2) + bias, BITS)).toBe(true);
    tf.dispose([x, y, y1]);
  });
});

describe('Gaussian-copula estimators against the float64 reference', () => {
  it('gcmi and gccmi', async () => {
    const { x, y, z } = tensors();
    const mi = await expectNoLeak(() => info.gcmi(x, y));
    expect(near(mi, referenceGcmi(X, Y), BITS), `gcmi ${mi} vs ${referenceGcmi(X, Y)}`).toBe(true);
    const cmi = await expectNoLeak(() => info.gccmi(x, y, z));
    expect(near(cmi, referenceGccmi(X, Y, Z), BITS), `gccmi ${cmi} vs ${referenceGccmi(X, Y, Z)}`).toBe(true);
    tf.dispose([x, y, z]);
  });

  it('gcmiDiscrete and gccmiDiscrete', async () => {
    const { x, y } = tensors();
    const labels = balancedLabels(N, 3, 7);
    // Make x depend on the class.
    const shifted = tf.tidy(() => tf.add(x, tf.mul(tf.tensor2d(Float32Array.from(labels), [N, 1]), 0.7)));
    const shiftedColumns = columns(await shifted.data(), N, 2);
    const mi = await expectNoLeak(() => info.gcmiDiscrete(shifted, labels, 3));
    const expected = referenceGcmiDiscrete(shiftedColumns, labels, 3);
    expect(expected).toBeGreaterThan(0.1);
    expect(near(mi, expected, BITS), `gcmiDiscrete ${mi} vs ${expected}`).toBe(true);
    const asTensor = tf.tensor1d(labels, 'int32');
    expect(await info.gcmiDiscrete(shifted, asTensor, 3)).toBe(mi);
    const cmi = await expectNoLeak(() => info.gccmiDiscrete(shifted, y, Array.from(labels), 3));
    const expectedCmi = referenceGccmiDiscrete(shiftedColumns, Y, labels, 3);
    expect(near(cmi, expectedCmi, BITS), `gccmiDiscrete ${cmi} vs ${expectedCmi}`).toBe(true);
    tf.dispose([x, y, shifted, asTensor]);
  });

  it('gcmi is invariant to strictly increasing transforms of each variable', async () => {
    const { x, y } = tensors();
    const base = await info.gcmi(x, y);
    const [ex, cy] = tf.tidy(() => [tf.exp(tf.mul(x, 0.5)), tf.add(tf.mul(tf.pow(y, 3), 2), 1)]);
    expect(await info.gcmi(ex, y)).toBeCloseTo(base, 6);
    expect(await info.gcmi(x, cy)).toBeCloseTo(base, 6);
    expect(await info.gcmi(ex, cy)).toBeCloseTo(base, 6);
    // The parametric estimator is not invariant.
    expect(Math.abs((await info.gaussianMI(ex, cy)) - (await info.gaussianMI(x, y)))).toBeGreaterThan(1e-3);
    tf.dispose([x, y, ex, cy]);
  });

  it('is near zero for independent variables and grows with dependence', async () => {
    const n = 400;
    const independent = mixedGaussian(n, [[1, 0], [0, 1]], 21);
    const dependent = mixedGaussian(n, [[1, 0], [0.95, 0.3]], 21);
    const mi = async (rows: Float32Array) => {
      const [a, b] = [block(rows, n, 2, 0, 1), block(rows, n, 2, 1, 1)];
      const value = await info.gcmi(a, b);
      tf.dispose([a, b]);
      return value;
    };
    expect(Math.abs(await mi(independent))).toBeLessThan(0.02);
    expect(await mi(dependent)).toBeGreaterThan(1);
  });
});

describe('bad input', () => {
  it('names the argument: ranks, sample counts, labels, classes, too few samples', async () => {
    const { x, y, z } = tensors();
    const cube = tf.zeros([N, 2, 2]);
    const short = tf.zeros([N - 1, 1]);
    const labels = balancedLabels(N, 3, 2);
    await expectRejectsWithoutLeak(() => info.gcmi(cube, y), /x: expected samples on the first axis.*got rank 3/);
    await expectRejectsWithoutLeak(() => info.gcmi(x, short), new RegExp(`y: expected ${N} samples \\(like x\\)`));
    await expectRejectsWithoutLeak(() => info.gccmi(x, y, short), /z: expected 240 samples/);
    await expectRejectsWithoutLeak(() => info.gaussianMI(x, 3 as unknown as tf.Tensor), /y: expected a tf.Tensor/);
    const outOfRange = Array.from(labels, (l, i) => (i === 5 ? 3 : l));
    await expectRejectsWithoutLeak(() => info.gcmiDiscrete(x, outOfRange, 3), /labels: label 5 is 3: expected an integer class in 0..2/);
    const fractional = Array.from(labels, (l, i) => (i === 0 ? 0.5 : l));
    await expectRejectsWithoutLeak(() => info.gcmiDiscrete(x, fractional, 3), /labels: label 0 is 0.5/);
    await expectRejectsWithoutLeak(() => info.gcmiDiscrete(x, labels.slice(1), 3), /labels: expected one label per sample \(240\), got 239/);
    await expectRejectsWithoutLeak(() => info.gcmiDiscrete(x, labels, 4), /labels: class 3 of 0..3 has no samples/);
    await expectRejectsWithoutLeak(() => info.gcmiDiscrete(x, labels, 0), /numClasses: expected an integer >= 1/);
    const tiny = Int32Array.from({ length: N }, (_, i) => (i < 2 ? 1 : 0));
    await expectRejectsWithoutLeak(() => info.gcmiDiscrete(x, tiny, 2), /labels: every class needs more than 2 samples.*class 1 \(2\)/);
    await expectRejectsWithoutLeak(() => info.gccmiDiscrete(x, y, Int32Array.from({ length: N }, (_, i) => (i < 3 ? 1 : 0)), 2), /zLabels: every class needs more than 3 samples/);
    const few = tf.zeros([3, 2]);
    const fewY = tf.zeros([3, 1]);
    await expectRejectsWithoutLeak(() => info.gcmi(few, fewY), /y: too few samples: 3 samples cannot estimate the covariance of 3 variables/);
    const constant = tf.tensor1d([1, 1, 1]);
    await expectRejectsWithoutLeak(() => info.gaussianEntropy(constant), /x: the covariance of x is singular/);
    const nan = tf.tidy(() => tf.concat([tf.tensor2d([[NaN]]), tf.slice(y, [1, 0], [N - 1, 1])]));
    await expectRejectsWithoutLeak(() => info.gcmi(x, nan), /y: contains NaN or infinite values/);
    await expectRejectsWithoutLeak(() => info.gaussianMI(x, y, { biasCorrect: 'yes' as unknown as boolean }), /options.biasCorrect: expected a boolean/);
    await expectRejectsWithoutLeak(() => info.gaussianMI(x, y, { biascorrect: false } as never), /options.biascorrect: unknown option; did you mean 'biasCorrect'/);
    await expectRejectsWithoutLeak(() => info.gcmi(x, y, { jiter: true } as never), /options.jiter: unknown option; did you mean 'jitter'/);
    tf.dispose([x, y, z, cube, short, few, fewY, nan, constant]);
  });
});
