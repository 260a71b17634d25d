import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { integratedGradients, integratedGradientsDelta, QUADRATURE_METHODS } from '../../src/index';
import { gaussLegendre, quadrature } from '../../src/advanced';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak, seededTensor } from '../helpers';
import { linearFunction, smoothMlp } from '../helpers/models';

describe('quadrature', () => {
  it('weights sum to 1 and integrate polynomials as the rule promises', () => {
    for (const method of QUADRATURE_METHODS) {
      const { alphas, weights } = quadrature(method, 7);
      expect(weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      expect(Math.min(...alphas)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...alphas)).toBeLessThanOrEqual(1);
    }
    // n-point Gauss–Legendre is exact for degree 2n − 1: ∫₀¹ α¹³ dα = 1/14 with 7 points.
    const { alphas, weights } = quadrature('gausslegendre', 7);
    expect(alphas.reduce((s, a, k) => s + weights[k] * a ** 13, 0)).toBeCloseTo(1 / 14, 12);
    // Known 3-point nodes ±√(3/5), 0 and weights 5/9, 8/9.
    const { nodes, weights: w } = gaussLegendre(3);
    expect(nodes[0]).toBeCloseTo(-Math.sqrt(0.6), 14);
    expect(nodes[1]).toBeCloseTo(0, 14);
    expect(w[1]).toBeCloseTo(8 / 9, 14);
    expect(quadrature('riemann_trapezoid', 3).weights).toEqual(new Float64Array([0.25, 0.5, 0.25]));
    expect(quadrature('riemann_middle', 2).alphas).toEqual(new Float64Array([0.25, 0.75]));
  });

  it('rejects steps < 1, a one-step trapezoid and unknown methods', () => {
    expect(() => quadrature('gausslegendre', 0)).toThrow(/options\.steps: expected an integer >= 1, got 0/);
    expect(() => quadrature('riemann_trapezoid', 1)).toThrow(/options\.steps: riemann_trapezoid needs at least 2 steps/);
    expect(() => quadrature('simpson' as never, 4)).toThrow(/options\.method: expected one of 'riemann_left'.*got "simpson"/);
  });
});

describe('integratedGradients', () => {
  const model = smoothMlp(5, 3, 4);
  const x = seededTensor([3, 5], 21, 2);
  afterAll(() => x.dispose());

  it('is exact on a linear model for every quadrature: (x − b) ⊙ w', async () => {
    const w = tf.tensor1d([0.5, -2, 1.5, 3, -0.25]);
    const f = linearFunction(w, 0.7);
    const baseline = seededTensor([1, 5], 3);
    for (const method of ['riemann_left', 'riemann_right', 'riemann_middle', 'riemann_trapezoid', 'gausslegendre'] as const) {
      const ig = await expectNoLeak(() => integratedGradients(f, x, { method, steps: 4, baseline }));
      await expectClose(ig, tf.mul(tf.sub(x, baseline), w), 1e-5);
      ig.dispose();
    }
    w.dispose();
    baseline.dispose();
  });

  it('is complete: the delta is small and shrinks as steps grow', async () => {
    const deltas: number[] = [];
    for (const steps of [2, 8, 32]) {
      const ig = await integratedGradients(model, x, { target: [0, 1, 2], steps });
      const delta = await expectNoLeak(() => integratedGradientsDelta(model, x, ig, { target: [0, 1, 2] }));
      expect(delta.shape).toEqual([3]);
      deltas.push(Math.max(...Array.from(await delta.data(), Math.abs)));
      ig.dispose();
      delta.dispose();
    }
    expect(deltas[1]).toBeLessThan(deltas[0]);
    expect(deltas[2]).toBeLessThan(1e-3);
    // Independent check of the delta itself: Σ IG − (f(x) − f(b)) with f evaluated directly.
    const ig = await integratedGradients(model, x, { target: 1, steps: 16, baseline: 0.5 });
    const delta = await integratedGradientsDelta(model, x, ig, { target: 1, baseline: 0.5 });
    const expected = tf.tidy(() => {
      const fx = tf.slice(model.predict(x) as tf.Tensor, [0, 1], [-1, 1]);
      const fb = tf.slice(model.predict(tf.fill(x.shape, 0.5)) as tf.Tensor, [0, 1], [-1, 1]);
      return tf.sub(tf.sum(ig, 1), tf.reshape(tf.sub(fx, fb), [-1]));
    });
    await expectClose(delta, expected, 1e-4);
    [ig, delta, expected].forEach((t) => t.dispose());
  });

  it('does not depend on batchSize', async () => {
    const reference = await integratedGradients(model, x, { target: 2, steps: 10, batchSize: 64 });
    for (const batchSize of [1, 7]) {
      const other = await integratedGradients(model, x, { target: 2, steps: 10, batchSize });
      await expectClose(other, reference, 1e-6);
      other.dispose();
    }
    reference.dispose();
  });

  it('reports progress in model rows and aborts cleanly', async () => {
    const progress: number[] = [];
    const ig = await integratedGradients(model, x, { target: 0, steps: 4, batchSize: 5, onProgress: (done, total) => progress.push(done / total) });
    expect(progress.at(-1)).toBe(1);
    expect(progress.length).toBe(3);
    ig.dispose();
    const controller = new AbortController();
    controller.abort();
    await expectRejectsWithoutLeak(() => integratedGradients(model, x, { target: 0, signal: controller.signal }), /aborted/);
  });

  it('rejects bad steps, baselines and attributions', async () => {
    await expectRejectsWithoutLeak(() => integratedGradients(model, x, { target: 0, steps: 0 }), /options\.steps: expected an integer >= 1/);
    const badBaseline = tf.zeros([2, 5]);
    await expectRejectsWithoutLeak(
      () => integratedGradients(model, x, { target: 0, baseline: badBaseline }),
      /options\.baseline: expected shape \[3, 5\] \(like the input\), \[1, 5\] \(one example\) or \[5\] \(one value per channel\), got \[2, 5\]/,
    );
    await expectRejectsWithoutLeak(() => integratedGradients(model, x, { target: 0, baseline: NaN }), /options\.baseline: expected a finite number/);
    await expectRejectsWithoutLeak(() => integratedGradientsDelta(model, x, badBaseline, { target: 0 }), /attributions: expected the shape of x \[3, 5\]/);
    badBaseline.dispose();
  });
});
