/**
 * The surrogate solvers in tfjs ops against plain-JS float64 references: weighted least squares (plain,
 * with the efficiency constraint, with padding columns, underdetermined) and the weighted Lasso.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { lasso } from '../../src/attribution/perturbation/lasso';
import { weightedLeastSquares } from '../../src/attribution/perturbation/weighted-least-squares';
import { expectClose, expectNoLeak, seededValues } from '../helpers';
import { lassoReference, leastSquaresKkt, leastSquaresMinimumNorm } from './surrogate-reference';

/** P problems of S rows and M columns: binary or continuous designs, targets, positive weights. */
function problems(p: number, s: number, m: number, seed: number, binary: boolean) {
  const u = seededValues(p * s * m + 2 * p * s, seed);
  const z = Array.from({ length: p }, (_, i) =>
    Array.from({ length: s }, (_, r) => Array.from({ length: m }, (_, j) => {
      const v = u[(i * s + r) * m + j];
      return binary ? (v > 0 ? 1 : 0) : v;
    })),
  );
  const y = Array.from({ length: p }, (_, i) => Array.from({ length: s }, (_, r) => 2 * u[p * s * m + i * s + r]));
  const w = Array.from({ length: p }, (_, i) => Array.from({ length: s }, (_, r) => Math.exp(u[p * s * m + p * s + i * s + r])));
  const tensors = () => ({
    design: tf.tensor3d(z.flat(2), [p, s, m]),
    targets: tf.tensor2d(y.flat(), [p, s]),
    weights: tf.tensor2d(w.flat(), [p, s]),
  });
  return { z, y, w, tensors };
}

describe('weightedLeastSquares', () => {
  it('solves P weighted problems at once, as the normal equations in float64', async () => {
    const { z, y, w, tensors } = problems(3, 30, 5, 1, false);
    const { design, targets, weights } = tensors();
    const phi = await expectNoLeak(() => weightedLeastSquares(design, targets, weights));
    expect(phi.shape).toEqual([3, 5]);
    await expectClose(phi, z.flatMap((_, i) => leastSquaresKkt(z[i], y[i], w[i])), 1e-4);
    tf.dispose([design, targets, weights, phi]);
  });

  it('meets Σφ = total exactly and matches the KKT solution; padding columns stay 0', async () => {
    const { z, y, w, tensors } = problems(2, 40, 6, 2, true);
    // Problem 1 has 4 features: its columns 4 and 5 are padding (zero).
    z[1].forEach((row) => (row[4] = row[5] = 0));
    const { design: full, targets, weights } = tensors();
    const design = tf.tidy(() => tf.mul(full, tf.tensor3d([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0], [2, 1, 6])));
    const active = tf.tensor2d([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0], [2, 6]);
    const total = tf.tensor1d([1.5, -0.75]);
    const phi = await expectNoLeak(() => weightedLeastSquares(design as tf.Tensor3D, targets, weights, { total, active }));
    const values = await phi.data();
    expect(values[0] + values[1] + values[2] + values[3] + values[4] + values[5]).toBeCloseTo(1.5, 5);
    expect(values[6] + values[7] + values[8] + values[9]).toBeCloseTo(-0.75, 5);
    expect([Math.abs(values[10]), Math.abs(values[11])]).toEqual([0, 0]);
    const expected = [...leastSquaresKkt(z[0], y[0], w[0], 1.5), ...leastSquaresKkt(z[1].map((r) => r.slice(0, 4)), y[1], w[1], -0.75), 0, 0];
    await expectClose(phi, expected, 1e-4);
    tf.dispose([full, design, targets, weights, active, total, phi]);
  });

  it('returns the minimum-norm solution of an underdetermined problem', async () => {
    // 4 coalitions, 7 features: infinitely many exact fits; the constrained one of least norm.
    const { z, y, w, tensors } = problems(1, 4, 7, 3, true);
    const { design, targets, weights } = tensors();
    const total = tf.tensor1d([0.8]);
    const phi = await expectNoLeak(() => weightedLeastSquares(design, targets, weights, { total }));
    await expectClose(phi, leastSquaresMinimumNorm(z[0], y[0], w[0], 0.8), 1e-4);
    // Without rows only the constraint speaks: φ = total / M.
    const empty = await weightedLeastSquares(tf.zeros([1, 0, 7]) as tf.Tensor3D, tf.zeros([1, 0]) as tf.Tensor2D, tf.zeros([1, 0]) as tf.Tensor2D, { total });
    await expectClose(empty, new Array(7).fill(0.8 / 7), 1e-6);
    tf.dispose([design, targets, weights, total, phi, empty]);
  });
});

describe('lasso', () => {
  it("fits scikit-learn's weighted objective with intercept, as float64 coordinate descent", async () => {
    const { z, y, w, tensors } = problems(2, 60, 6, 4, true);
    // Targets: a sparse linear function of the coalitions plus noise.
    const truth = [1.2, 0, -0.6, 0, 0.05, 0.3];
    y.forEach((rows, i) => rows.forEach((_, r) => (rows[r] = 0.5 + z[i][r].reduce((s, v, j) => s + v * truth[j], 0) + 0.1 * rows[r])));
    const { design, weights } = tensors();
    const targets = tf.tensor2d(y.flat(), [2, 60]);
    for (const alpha of [0.01, 0.1]) {
      const fit = await expectNoLeak(() => lasso(design, targets, weights, { alpha, tolerance: 1e-7 }));
      const expected = [0, 1].map((i) => lassoReference(z[i], y[i], w[i], alpha));
      await expectClose(fit.coefficients, expected.flatMap((e) => e.coefficients), 2e-4);
      await expectClose(fit.intercept, expected.map((e) => e.intercept), 2e-4);
      // α = 0.1 sets the small coefficients to exactly 0.
      if (alpha === 0.1) expect(Array.from(await fit.coefficients.data()).filter((v) => v === 0).length).toBeGreaterThan(2);
      tf.dispose([fit.coefficients, fit.intercept]);
    }
    tf.dispose([design, targets, weights]);
  });

  it('keeps constant (padding) columns at 0 and stops at the default tolerance close to the optimum', async () => {
    const { z, y, w, tensors } = problems(1, 50, 5, 5, true);
    z[0].forEach((row) => (row[4] = 0));
    const { design: full, targets, weights } = tensors();
    const design = tf.tidy(() => tf.mul(full, tf.tensor3d([1, 1, 1, 1, 0], [1, 1, 5])));
    const fit = await lasso(design as tf.Tensor3D, targets, weights, { alpha: 0.01 });
    const values = await fit.coefficients.data();
    expect(Math.abs(values[4])).toBe(0);
    const expected = lassoReference(z[0], y[0], w[0], 0.01).coefficients;
    await expectClose(values, expected, 1e-2);
    tf.dispose([full, design, targets, weights, fit.coefficients, fit.intercept]);
  });
});
