import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { adaptiveSmoothTaylor, smoothTaylor } from '../../src/index';
import { seededNormal } from '../../src/core/seeded-random';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak, seededTensor } from '../helpers';
import { linearFunction, smoothMlp } from '../helpers/models';

describe('smoothTaylor', () => {
  const model = smoothMlp(4, 2, 5);
  const x = seededTensor([2, 4], 41, 1.2);
  afterAll(() => x.dispose());

  it('equals (1/N) Σ (x − z_i) ⊙ ∇f_c(z_i) at the seeded roots, computed independently', async () => {
    const roots = 6;
    const seed = 12;
    const sigma = 0.4;
    const result = await expectNoLeak(() => smoothTaylor(model, x, { target: [1, 0], samples: roots, stdev: sigma, seed, batchSize: 5 }));
    const targets = [1, 0];
    const expected: number[] = [];
    for (let e = 0; e < 2; e++) {
      const example = tf.slice(x, e, 1);
      const sum = tf.zeros([1, 4]);
      let acc = sum;
      for (let i = 0; i < roots; i++) {
        const z = tf.add(example, tf.mul(tf.expandDims(seededNormal([4], seed, e, i), 0), sigma));
        const g = tf.grad((v: tf.Tensor) => tf.sum(tf.slice(model.predict(v) as tf.Tensor, [0, targets[e]], [1, 1])))(z);
        const next = tf.add(acc, tf.mul(tf.sub(example, z), g));
        acc.dispose();
        acc = next;
        [z, g].forEach((t) => t.dispose());
      }
      expected.push(...Array.from(await acc.data(), (v) => v / roots));
      acc.dispose();
      example.dispose();
    }
    await expectClose(result, expected, 1e-4);
    result.dispose();
  });

  it('does not depend on batchSize; relative noise scales with the input range', async () => {
    const a = await smoothTaylor(model, x, { target: 0, samples: 5, seed: 2, batchSize: 1 });
    const b = await smoothTaylor(model, x, { target: 0, samples: 5, seed: 2, batchSize: 100 });
    await expectClose(a, b, 1e-5);
    // On a linear model A = −σ·mean(ε) ⊙ w exactly: check σ = noiseLevel · (max − min) per example.
    const w = tf.tensor1d([1, -2, 0.5, 3]);
    const f = linearFunction(w, 0);
    const relative = await smoothTaylor(f, x, { samples: 3, noiseLevel: 0.5, seed: 8 });
    const absolute = await smoothTaylor(f, x, { samples: 3, stdev: 1, seed: 8 });
    const range = tf.tidy(() => tf.reshape(tf.mul(tf.sub(tf.max(x, 1), tf.min(x, 1)), 0.5), [2, 1]));
    await expectClose(relative, tf.mul(absolute, range), 1e-5);
    [a, b, w, relative, absolute, range].forEach((t) => t.dispose());
  });

  it('rejects bad options without leaking', async () => {
    await expectRejectsWithoutLeak(() => smoothTaylor(model, x, { target: 0, samples: 0 }), /options\.samples: expected an integer >= 1/);
    await expectRejectsWithoutLeak(() => smoothTaylor(model, x, { target: 0, stdev: -0.1 }), /options\.stdev: expected a number in \[0/);
    await expectRejectsWithoutLeak(() => smoothTaylor(model, x, { target: 0, stdev: 1, noiseLevel: 1 }), /options\.stdev: give either/);
    await expectRejectsWithoutLeak(() => smoothTaylor(model, x, { target: 9 }), /options\.target: index 9 is out of range/);
  });
});

describe('adaptiveSmoothTaylor', () => {
  const model = smoothMlp(4, 2, 6);
  const x = seededTensor([2, 4], 43, 1.2);
  afterAll(() => x.dispose());

  it('returns the best σ found, never worse than the starting σ = mean|x|', async () => {
    const objective = async (attribution: tf.Tensor) => {
      // Prefer attributions whose L1 norm is close to 0.3: a smooth objective with an interior optimum.
      const norm = tf.tidy(() => tf.sum(tf.abs(attribution)));
      const value = Math.abs((await norm.data())[0] - 0.3);
      norm.dispose();
      return value;
    };
    const result = await expectNoLeak(() =>
      adaptiveSmoothTaylor(model, x, { target: 1, samples: 8, seed: 5, objective, maxIterations: 6 }),
    );
    expect(result.attribution.shape).toEqual([2, 4]);
    expect(result.stdevs).toHaveLength(2);
    for (let e = 0; e < 2; e++) {
      const example = tf.slice(x, e, 1);
      const meanAbs = (await tf.mean(tf.abs(example)).data())[0];
      const start = await smoothTaylor(model, example, { target: 1, samples: 8, seed: 5, stdev: meanAbs });
      expect(result.objectives[e]).toBeLessThanOrEqual((await objective(start)) + 1e-9);
      const chosen = tf.slice(result.attribution, e, 1);
      expect(await objective(chosen)).toBeCloseTo(result.objectives[e], 6);
      [example, start, chosen].forEach((t) => t.dispose());
    }
    result.attribution.dispose();
  });

  it('uses total variation by default on images and rejects bad settings', async () => {
    const img = seededTensor([1, 6, 6, 1], 3);
    const result = await adaptiveSmoothTaylor((v: tf.Tensor) => tf.reshape(tf.sum(tf.square(v), [1, 2, 3]), [v.shape[0], 1]), img, { samples: 4, seed: 1, maxIterations: 2 });
    expect(result.attribution.shape).toEqual([1, 6, 6, 1]);
    expect(result.stdevs[0]).toBeGreaterThan(0);
    result.attribution.dispose();
    img.dispose();
    await expectRejectsWithoutLeak(() => adaptiveSmoothTaylor(model, x, { target: 0, decay: 1.5 }), /options\.decay: expected a number in \(0, 1\]/);
    await expectRejectsWithoutLeak(() => adaptiveSmoothTaylor(model, x, { target: 0, learningRate: 0 }), /options\.learningRate/);
  });
});
