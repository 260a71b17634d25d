import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { infidelity, saliency, type InfidelityPerturbation } from '../../src/index';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak, seededValues } from '../helpers';

/** `f(x) = x·W + b` on flattened features, `classes` outputs. */
function linearModel(weights: ArrayLike<number>, size: number, classes = 1, bias = 0.3) {
  return (v: tf.Tensor) => tf.add(tf.matMul(tf.reshape(v, [v.shape[0], size]), tf.tensor2d(Array.from(weights), [size, classes])), bias);
}

/** Fixed perturbations from plain arrays: sample k uses `perturbations[k]` (`[N·D]`) and `perturbed(x, I)`. */
function fixedPerturbation(perturbations: Float32Array[], perturbed: (x: tf.Tensor, i: tf.Tensor) => tf.Tensor): { fn: InfidelityPerturbation; calls: number[] } {
  const calls: number[] = [];
  const fn: InfidelityPerturbation = (x, k) => {
    calls.push(k);
    return tf.tidy(() => {
      const perturbation = tf.tensor(perturbations[k], x.shape);
      return { perturbation, perturbed: perturbed(x, perturbation) };
    });
  };
  return { fn, calls };
}

/**
 * Plain-JS infidelity: per example, a_k = Σ I_k Φ, b_k = f(x) − f(x̃_k), mean_k (β a_k − b_k)² with β = 1
 * or the best β = Σ a b / Σ a².
 */
function referenceInfidelity(
  xs: ArrayLike<number>,
  phi: ArrayLike<number>,
  perturbations: Float32Array[],
  perturbedOf: (x: number[], i: number[]) => number[],
  score: (v: number[]) => number,
  size: number,
  normalize = false,
): number[] {
  const n = xs.length / size;
  return Array.from({ length: n }, (_, e) => {
    const x = Array.from(xs).slice(e * size, (e + 1) * size);
    const p = Array.from(phi).slice(e * size, (e + 1) * size);
    const a: number[] = [];
    const b: number[] = [];
    for (const all of perturbations) {
      const i = Array.from(all).slice(e * size, (e + 1) * size);
      a.push(i.reduce((s, v, j) => s + v * p[j], 0));
      b.push(score(x) - score(perturbedOf(x, i)));
    }
    const den = a.reduce((s, v) => s + v * v, 0);
    const beta = normalize ? a.reduce((s, v, k) => s + v * b[k], 0) / (den === 0 ? 1 : den) : 1;
    return a.reduce((s, v, k) => s + (beta * v - b[k]) ** 2, 0) / a.length;
  });
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);

describe('infidelity', () => {
  it('is 0 for the signed gradient of a linear model under the default Gaussian noise, positive for x ⊙ w', async () => {
    const [N, H, W, C] = [3, 4, 3, 2];
    const size = H * W * C;
    const xs = seededValues(N * size, 1);
    const ws = seededValues(size, 2);
    const x = tf.tensor4d(xs, [N, H, W, C]);
    const model = linearModel(ws, size);
    const gradient = await saliency(model, x, { abs: false });
    const exact = await expectNoLeak(() => infidelity(model, x, gradient, { seed: 1, samples: 20 }));
    expect(exact.shape).toEqual([N]);
    // Σ w² σ² ≈ 0.08 per sample here; float32 round-off leaves ~1e-12.
    expect(Math.max(...(await exact.data()))).toBeLessThan(1e-8);
    const gradientTimesInput = tf.mul(x, gradient);
    const wrong = await infidelity(model, x, gradientTimesInput, { seed: 1, samples: 20 });
    expect(Math.min(...(await wrong.data()))).toBeGreaterThan(1e-4);
    [x, gradient, exact, gradientTimesInput, wrong].forEach((t) => t.dispose());
  });

  it('matches a plain-JS computation with given perturbations, with and without normalisation, for any score', async () => {
    const [N, D, classes] = [2, 6, 3];
    const xs = seededValues(N * D, 3);
    const ws = seededValues(D * classes, 4);
    const phi = seededValues(N * D, 5);
    const samples = 5;
    const perturbations = Array.from({ length: samples }, (_, k) => seededValues(N * D, 100 + k).map((v) => 0.3 * v));
    const x = tf.tensor2d(xs, [N, D]);
    const attribution = tf.tensor2d(phi, [N, D]);
    const target = [2, 0];
    const { fn, calls } = fixedPerturbation(perturbations, (v, i) => tf.sub(v, i));
    const logits = (v: number[]) => Array.from({ length: classes }, (_, c) => 0.3 + v.reduce((s, value, j) => s + value * ws[j * classes + c], 0));
    const minus = (v: number[], i: number[]) => v.map((value, j) => value - i[j]);
    for (const normalize of [false, true]) {
      calls.length = 0;
      const result = await expectNoLeak(() => infidelity(linearModel(ws, D, classes), x, attribution, { target, perturbation: fn, samples, normalize, batchSize: 3 }));
      expect(calls).toEqual([0, 1, 2, 3, 4]);
      // Per-example targets: compute each example's reference with its own class.
      const expected = [0, 1].map((e) =>
        referenceInfidelity(xs.slice(e * D, (e + 1) * D), phi.slice(e * D, (e + 1) * D), perturbations.map((p) => p.slice(e * D, (e + 1) * D)), minus, (v) => logits(v)[target[e]], D, normalize)[0],
      );
      await expectClose(result, expected, 1e-4);
      result.dispose();
    }
    const sigmoid = await infidelity(linearModel(ws, D, classes), x, attribution, { target: 1, perturbation: fn, samples, score: 'sigmoid' });
    await expectClose(sigmoid, referenceInfidelity(xs, phi, perturbations, minus, (v) => 1 / (1 + Math.exp(-logits(v)[1])), D), 1e-4);
    [x, attribution, sigmoid].forEach((t) => t.dispose());
  });

  it('is 0 for x ⊙ w of a linear model under subset-to-baseline perturbations (Captum: I = mask, x̃ = (1 − mask) ⊙ x)', async () => {
    const [N, D] = [3, 8];
    const xs = seededValues(N * D, 6);
    const ws = seededValues(D, 7);
    const x = tf.tensor2d(xs, [N, D]);
    const samples = 6;
    const masks = Array.from({ length: samples }, (_, k) => seededValues(N * D, 200 + k).map((v) => (v > 0 ? 1 : 0)));
    const { fn } = fixedPerturbation(masks, (v, mask) => tf.mul(tf.sub(1, mask), v));
    const model = linearModel(ws, D);
    const score = (v: number[]) => 0.3 + dot(v, ws);
    const subset = (v: number[], mask: number[]) => v.map((value, j) => (1 - mask[j]) * value);
    const exactValues = Float32Array.from(xs, (v, i) => v * ws[i % D]);
    const exact = tf.tensor2d(exactValues, [N, D]);
    const zero = await expectNoLeak(() => infidelity(model, x, exact, { perturbation: fn, samples }));
    expect(Math.max(...(await zero.data()))).toBeLessThan(1e-9);
    // The plain gradient w predicts the wrong changes here.
    const gradientValues = Float32Array.from({ length: N * D }, (_, i) => ws[i % D]);
    const gradient = tf.tensor2d(gradientValues, [N, D]);
    const wrong = await infidelity(model, x, gradient, { perturbation: fn, samples });
    const expected = referenceInfidelity(xs, gradientValues, masks, subset, score, D);
    expect(Math.min(...expected)).toBeGreaterThan(1e-3);
    await expectClose(wrong, expected, 1e-4);
    // Normalisation makes the score blind to the attribution's scale: 3·(x ⊙ w) is exact again.
    const scaled = tf.mul(exact, 3);
    const [raw, normalised] = [await infidelity(model, x, scaled, { perturbation: fn, samples }), await infidelity(model, x, scaled, { perturbation: fn, samples, normalize: true })];
    await expectClose(raw, referenceInfidelity(xs, exactValues.map((v) => 3 * v), masks, subset, score, D), 1e-4);
    expect(Math.min(...(await raw.data()))).toBeGreaterThan(1e-3);
    expect(Math.max(...(await normalised.data()))).toBeLessThan(1e-9);
    // An all-zero attribution: β's denominator is 0, β = 0, so the score is mean Δf².
    const none = tf.zeros([N, D]);
    const zeroPhi = await infidelity(model, x, none, { perturbation: fn, samples, normalize: true });
    await expectClose(zeroPhi, referenceInfidelity(xs, new Float32Array(N * D), masks, subset, score, D), 1e-4);
    [x, exact, zero, gradient, wrong, scaled, raw, normalised, none, zeroPhi].forEach((t) => t.dispose());
  });

  it('uses Gaussian noise with σ = 0.1 by default, seeded: E[(w·I)²] = σ²‖w‖² for a zero attribution', async () => {
    const D = 16;
    const ws = seededValues(D, 8);
    const x = tf.tensor2d(seededValues(2 * D, 9), [2, D]);
    const none = tf.zeros([2, D]);
    const model = linearModel(ws, D);
    const a = await infidelity(model, x, none, { samples: 400, seed: 5, batchSize: 256 });
    const expected = 0.01 * dot(ws, ws);
    for (const v of await a.data()) expect(Math.abs(v / expected - 1)).toBeLessThan(0.25);
    const b = await infidelity(model, x, none, { samples: 400, seed: 5, batchSize: 7 });
    await expectClose(b, a, 1e-5);
    const c = await infidelity(model, x, none, { samples: 400, seed: 6, batchSize: 256 });
    expect(Array.from(await c.data())).not.toEqual(Array.from(await a.data()));
    const wide = await infidelity(model, x, none, { samples: 400, seed: 5, stdev: 0.2 });
    await expectClose(wide, tf.mul(a, 4), 1e-4);
    [x, none, a, b, c, wide].forEach((t) => t.dispose());
  });

  it('does not depend on batchSize, calls the perturbation once per sample and reports progress over every pass', async () => {
    const [N, D] = [3, 5];
    const xs = seededValues(N * D, 10);
    const x = tf.tensor2d(xs, [N, D]);
    const phi = tf.tensor2d(seededValues(N * D, 11), [N, D]);
    // A non-linear model, so chunking mistakes would show.
    const model = (v: tf.Tensor) => tf.reshape(tf.sum(tf.tanh(tf.mul(v, 2)), 1), [-1, 1]);
    const samples = 4;
    const perturbations = Array.from({ length: samples }, (_, k) => seededValues(N * D, 300 + k).map((v) => 0.2 * v));
    const results: tf.Tensor[] = [];
    for (const batchSize of [1, 2, 4, 5, 100]) {
      const { fn, calls } = fixedPerturbation(perturbations, (v, i) => tf.sub(v, i));
      const progress: [number, number][] = [];
      results.push(await expectNoLeak(() => infidelity(model, x, phi, { perturbation: fn, samples, batchSize, onProgress: (d, t) => progress.push([d, t]) })));
      expect(calls).toEqual([0, 1, 2, 3]);
      const total = N * (samples + 1);
      expect(progress.at(-1)).toEqual([total, total]);
      expect(progress.length).toBe(Math.ceil(total / batchSize));
    }
    for (const r of results.slice(1)) await expectClose(r, results[0], 1e-6);
    const tanhScore = (v: number[]) => v.reduce((s, value) => s + Math.tanh(2 * value), 0);
    await expectClose(results[0], referenceInfidelity(xs, await phi.data(), perturbations, (v, i) => v.map((value, j) => value - i[j]), tanhScore, D), 1e-4);
    [x, phi, ...results].forEach((t) => t.dispose());
  });

  it('rejects bad arguments with errors naming them, aborts, and leaks nothing on failure', async () => {
    const x = tf.ones([2, 4]);
    const a = tf.ones([2, 4]);
    const model = (v: tf.Tensor) => tf.reshape(tf.sum(v, 1), [-1, 1]);
    await expectRejectsWithoutLeak(() => infidelity(model, x, a, { samples: 0 }), /options\.samples: expected an integer >= 1, got 0/);
    await expectRejectsWithoutLeak(() => infidelity(model, x, a, { stdev: 0 }), /options\.stdev: expected a number in \(0, ∞\)/);
    await expectRejectsWithoutLeak(() => infidelity(model, x, a, { normalize: 'yes' as never }), /options\.normalize: expected a boolean/);
    await expectRejectsWithoutLeak(() => infidelity(model, x, a, { score: 'probability' as never }), /options\.score/);
    await expectRejectsWithoutLeak(() => infidelity(model, x, a, { perturbation: 'gaussian' as never }), /options\.perturbation: expected a function/);
    const fn: InfidelityPerturbation = (v) => tf.tidy(() => ({ perturbation: tf.onesLike(v), perturbed: tf.zerosLike(v) }));
    await expectRejectsWithoutLeak(() => infidelity(model, x, a, { perturbation: fn, stdev: 0.1 }), /options\.stdev: applies to the default Gaussian perturbation only/);
    const wrong = tf.ones([2, 3]);
    await expectRejectsWithoutLeak(() => infidelity(model, x, wrong), /attribution: expected shape \[2, 4\] \(like x\), got \[2, 3\]/);
    await expectRejectsWithoutLeak(() => infidelity(model, x, undefined as never), /attribution: expected a tf\.Tensor/);
    const nan = tf.tensor2d([[1, NaN, 0, 0], [0, 0, 0, 0]]);
    await expectRejectsWithoutLeak(() => infidelity(model, x, nan), /attribution: contains NaN/);
    await expectRejectsWithoutLeak(() => infidelity(model, nan, a), /x: contains NaN/);
    const badShape: InfidelityPerturbation = (v) => tf.tidy(() => ({ perturbation: tf.ones([2, 3]), perturbed: tf.zerosLike(v) }));
    await expectRejectsWithoutLeak(() => infidelity(model, x, a, { perturbation: badShape }), /options\.perturbation: must return \{ perturbation, perturbed \}, both shaped like x \[2, 4\]; for sample 0 'perturbation' was a float32 tensor of shape \[2, 3\]/);
    const missing = ((v: tf.Tensor) => ({ perturbation: tf.onesLike(v) })) as unknown as InfidelityPerturbation;
    await expectRejectsWithoutLeak(() => infidelity(model, x, a, { perturbation: missing }), /for sample 0 'perturbed' was undefined/);
    const failing: InfidelityPerturbation = async (v, k) => {
      if (k === 2) throw new Error('perturbation failed');
      return fn(v, k);
    };
    await expectRejectsWithoutLeak(() => infidelity(model, x, a, { perturbation: failing, samples: 4, batchSize: 2 }), /perturbation failed/);
    const controller = new AbortController();
    await expectRejectsWithoutLeak(
      () => infidelity(model, x, a, { samples: 6, batchSize: 3, signal: controller.signal, onProgress: (d) => d >= 6 && controller.abort() }),
      /aborted/,
    );
    const classes = (v: tf.Tensor) => tf.reshape(v, [v.shape[0], -1]);
    await expectRejectsWithoutLeak(() => infidelity(classes, x, a, { target: 9 }), /options\.target: index 9 is out of range/);
    [x, a, wrong, nan].forEach((t) => t.dispose());
  });
});
