import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { gradientXInput, saliency, sensitivityMax } from '../../src/index';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak, seededValues } from '../helpers';
import { linearFunction } from '../helpers/models';

/** An explanation function that records the inputs it is called with (as plain arrays). */
function recording(explain: (v: tf.Tensor) => Promise<tf.Tensor> | tf.Tensor) {
  const inputs: Float32Array[] = [];
  const fn = async (v: tf.Tensor) => {
    inputs.push((await v.data()) as Float32Array);
    return explain(v);
  };
  return { fn, inputs };
}

const norm = (values: ArrayLike<number>) => Math.sqrt(Array.from(values).reduce((s, v) => s + v * v, 0));

describe('sensitivityMax', () => {
  it('is 0 for the gradient of a linear model', async () => {
    const x = tf.tensor3d(seededValues(2 * 4 * 3, 1), [2, 4, 3]);
    const weights = tf.tensor1d(seededValues(12, 2));
    const model = linearFunction(weights, 0.5);
    const sens = await expectNoLeak(() => sensitivityMax((v) => saliency(model, v, { abs: false }), x, { seed: 3 }));
    expect(sens.shape).toEqual([2]);
    expect(Array.from(await sens.data())).toEqual([0, 0]);
    [x, weights, sens].forEach((t) => t.dispose());
  });

  it('equals max_k ‖u_k ⊙ w‖ / ‖x ⊙ w‖ for gradient × input of a linear model, with u_k ~ U[−r, r]', async () => {
    const [N, D] = [3, 10];
    const xs = seededValues(N * D, 4);
    const ws = seededValues(D, 5);
    const x = tf.tensor2d(xs, [N, D]);
    const weights = tf.tensor1d(ws);
    const model = linearFunction(weights, -1);
    const { fn, inputs } = recording((v) => gradientXInput(model, v));
    const radius = 0.05;
    const samples = 7;
    const sens = await expectNoLeak(() => sensitivityMax(fn, x, { radius, samples, seed: 6 }));
    expect(inputs.length).toBe(samples + 1);
    expect(Array.from(inputs[0])).toEqual(Array.from(xs));
    const expected = Array.from({ length: N }, (_, e) => {
      const reference = norm(Array.from({ length: D }, (_, j) => xs[e * D + j] * ws[j]));
      let worst = 0;
      for (const noisy of inputs.slice(1)) {
        const change = Array.from({ length: D }, (_, j) => (noisy[e * D + j] - xs[e * D + j]) * ws[j]);
        worst = Math.max(worst, norm(change) / reference);
      }
      return worst;
    });
    await expectClose(sens, expected, 1e-4);
    // The noise is uniform in [−r, r] and fills that range.
    const noise = inputs.slice(1).flatMap((v) => Array.from(v, (value, i) => value - xs[i]));
    expect(Math.max(...noise.map(Math.abs))).toBeLessThanOrEqual(radius * (1 + 1e-5));
    expect(Math.max(...noise)).toBeGreaterThan(0.8 * radius);
    expect(Math.min(...noise)).toBeLessThan(-0.8 * radius);
    [x, weights, sens].forEach((t) => t.dispose());
  });

  it('divides by 1 where the explanation of x is zero', async () => {
    const x = tf.tensor2d([[1, 2, 3], [0, 0, 0]]);
    // Φ(v) = (v − x) ⊙ m: Φ(x) = 0 everywhere, so the score is max_k ‖u_k ⊙ m‖ / 1 (and 0, not NaN, for m = 0).
    const m = tf.tensor2d([[0, 0, 0], [1, 1, 1]]);
    const { fn, inputs } = recording((v) => tf.tidy(() => tf.mul(tf.sub(v, x), m)));
    const sens = await expectNoLeak(() => sensitivityMax(fn, x, { samples: 4, seed: 1 }));
    const values = await sens.data();
    expect(values[0]).toBe(0);
    const expected = Math.max(...inputs.slice(1).map((v) => norm(v.slice(3, 6))));
    expect(expected).toBeGreaterThan(0);
    expect(values[1]).toBeCloseTo(expected, 6);
    [x, m, sens].forEach((t) => t.dispose());
  });

  it('gives the same result for the same seed, different ones for different seeds, and reports progress', async () => {
    const x = tf.tensor2d(seededValues(8, 7), [2, 4]);
    const explain = (v: tf.Tensor) => tf.square(v);
    const calls: [number, number][] = [];
    const a = await sensitivityMax(explain, x, { seed: 11, samples: 3, onProgress: (d, t) => calls.push([d, t]) });
    const b = await sensitivityMax(explain, x, { seed: 11, samples: 3 });
    const c = await sensitivityMax(explain, x, { seed: 12, samples: 3 });
    await expectClose(a, b, 0);
    expect(Array.from(await a.data())).not.toEqual(Array.from(await c.data()));
    expect(calls).toEqual([[1, 4], [2, 4], [3, 4], [4, 4]]);
    // An explanation that returns its argument is fine (it is copied before the input is freed).
    const identity = await expectNoLeak(() => sensitivityMax((v) => v, x, { seed: 1, samples: 2 }));
    expect((await identity.data()).every((v) => v > 0)).toBe(true);
    [x, a, b, c, identity].forEach((t) => t.dispose());
  });

  it('rejects bad arguments with errors naming them, aborts, and leaks nothing on failure', async () => {
    const x = tf.ones([2, 3]);
    const explain = (v: tf.Tensor) => tf.mul(v, 2);
    await expectRejectsWithoutLeak(() => sensitivityMax(explain, x, { radius: 0 }), /options\.radius: expected a number in \(0, ∞\), got 0/);
    await expectRejectsWithoutLeak(() => sensitivityMax(explain, x, { radius: -1 }), /options\.radius/);
    await expectRejectsWithoutLeak(() => sensitivityMax(explain, x, { samples: 0 }), /options\.samples: expected an integer >= 1, got 0/);
    await expectRejectsWithoutLeak(() => sensitivityMax(explain, x, { seed: -2 }), /options\.seed/);
    await expectRejectsWithoutLeak(() => sensitivityMax('saliency' as never, x), /explain: expected a function/);
    const nan = tf.tensor2d([[1, NaN, 0]]);
    await expectRejectsWithoutLeak(() => sensitivityMax(explain, nan), /x: contains NaN/);
    const vector = tf.ones([3]);
    await expectRejectsWithoutLeak(() => sensitivityMax(explain, vector), /x: expected a batched tensor of rank >= 2/);
    await expectRejectsWithoutLeak(() => sensitivityMax((v) => tf.sum(v, 1), x), /explain: must return an attribution shaped like its input \[2, 3\]; on x it returned shape \[2\]/);
    await expectRejectsWithoutLeak(() => sensitivityMax(() => 3 as never, x), /explain: must return a tf\.Tensor/);
    let calls = 0;
    const failing = (v: tf.Tensor) => {
      if (++calls === 3) throw new Error('explanation failed');
      return tf.mul(v, 2);
    };
    await expectRejectsWithoutLeak(() => sensitivityMax(failing, x, { samples: 5 }), /explanation failed/);
    const controller = new AbortController();
    await expectRejectsWithoutLeak(
      () => sensitivityMax(explain, x, { samples: 5, signal: controller.signal, onProgress: (d) => d === 2 && controller.abort() }),
      /aborted/,
    );
    [x, nan, vector].forEach((t) => t.dispose());
  });
});
