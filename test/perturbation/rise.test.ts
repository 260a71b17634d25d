import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { rise } from '../../src/index';
import { seededInteger, seededUniforms } from '../../src/attribution/perturbation/mask-random';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak, seededTensor, seededValues } from '../helpers';
import { topDecileInside, upsampleAndCrop } from './reference';

const [H, W] = [20, 24];

/** `f(x) = Σ_pixels Σ_channels w ⊙ x` per example, one output. */
function linearModel(weights: tf.Tensor): (x: tf.Tensor) => tf.Tensor {
  return (x) => tf.reshape(tf.sum(tf.mul(x, weights), [1, 2, 3]), [-1, 1]);
}

describe('rise', () => {
  const x = tf.tidy(() => tf.add(tf.mul(seededTensor([2, H, W, 3], 4), 0.5), 0.5));
  afterAll(() => x.dispose());

  it('equals the RISE sum Σ f(x ⊙ M_i) M_i / (N p) over the seeded masks, recomputed in plain JS', async () => {
    const weights = seededTensor([1, H, W, 3], 8);
    const [masks, gridSize, p, seed] = [12, 4, 0.6, 21];
    const result = await expectNoLeak(() =>
      rise(linearModel(weights), x, { masks, gridSize, keepProbability: p, seed, batchSize: 5 }),
    );
    expect(result.shape).toEqual(x.shape);
    const xs = await x.data();
    const ws = await weights.data();
    const cell = [Math.ceil(H / gridSize), Math.ceil(W / gridSize)];
    const expected = new Float64Array(2 * H * W * 3);
    for (let i = 0; i < masks; i++) {
      const grid = Array.from(seededUniforms(gridSize * gridSize, seed, i), (u) => (u < p ? 1 : 0));
      const offset: [number, number] = [seededInteger(cell[0], seed, i, 1), seededInteger(cell[1], seed, i, 2)];
      const mask = upsampleAndCrop(grid, [gridSize, gridSize], [(gridSize + 1) * cell[0], (gridSize + 1) * cell[1]], [H, W], offset);
      for (let e = 0; e < 2; e++) {
        let score = 0;
        for (let k = 0; k < H * W * 3; k++) score += ws[k] * xs[e * H * W * 3 + k] * mask[Math.floor(k / 3)];
        for (let k = 0; k < H * W * 3; k++) expected[e * H * W * 3 + k] += (score * mask[Math.floor(k / 3)]) / (masks * p);
      }
    }
    await expectClose(result, expected, 1e-4);
    [weights, result].forEach((t) => t.dispose());
  });

  it('gives a constant model its constant everywhere, with an error that shrinks with N', async () => {
    const constant = (v: tf.Tensor) => tf.tile(tf.tensor2d([[0.3, 2.5]]), [v.shape[0], 1]);
    const error = async (masks: number): Promise<number> => {
      const map = await rise(constant, first, { target: 1, masks, seed: 5, batchSize: 200 });
      const values = await map.data();
      map.dispose();
      return Array.from(values).reduce((s, v) => s + Math.abs(v - 2.5), 0) / values.length;
    };
    const first = tf.slice(x, 0, 1);
    const coarse = await error(50);
    const fine = await error(800);
    first.dispose();
    expect(fine).toBeLessThan(0.1 * 2.5);
    // Sampling error ~ 1/√N: 16× the masks should give about a quarter of the error.
    expect(fine).toBeLessThan(0.5 * coarse);
  });

  it('concentrates on the only region the score depends on', async () => {
    const inside = (p: number) => {
      const [y, xx] = [Math.floor(p / W), p % W];
      return y >= 4 && y < 12 && xx >= 12 && xx < 21;
    };
    const weights = tf.tensor4d(Array.from({ length: H * W * 3 }, (_, k) => (inside(Math.floor(k / 3)) ? 1 : 0)), [1, H, W, 3]);
    const map = await rise(linearModel(weights), x, { masks: 600, seed: 2, batchSize: 300 });
    const values = await map.data();
    for (let e = 0; e < 2; e++) {
      const perPixel = Array.from({ length: H * W }, (_, p) => values[(e * H * W + p) * 3]);
      expect(topDecileInside(perPixel, inside)).toBeGreaterThan(0.8);
    }
    [weights, map].forEach((t) => t.dispose());
  });

  it('is reproducible with a seed, independent of batchSize, and works on [N, H, W] input', async () => {
    const model = (v: tf.Tensor) => tf.reshape(tf.sum(tf.square(v), [1, 2]), [-1, 1]);
    const grey = tf.tensor3d(seededValues(2 * H * W, 6), [2, H, W]);
    const a = await rise(model, grey, { samples: 40, seed: 9, batchSize: 7 });
    const b = await rise(model, grey, { samples: 40, seed: 9, batchSize: 80 });
    const c = await rise(model, grey, { samples: 40, seed: 10 });
    expect(a.shape).toEqual([2, H, W]);
    await expectClose(a, b, 1e-6);
    expect(Array.from(await c.data())).not.toEqual(Array.from(await a.data()));
    [grey, a, b, c].forEach((t) => t.dispose());
  });

  it('reports progress, aborts and rejects bad input without leaking', async () => {
    const ones = tf.ones([1, H, W, 3]);
    const model = linearModel(ones);
    const calls: [number, number][] = [];
    const map = await rise(model, x, { samples: 10, batchSize: 8, onProgress: (d, t) => calls.push([d, t]) });
    map.dispose();
    expect(calls).toEqual([[8, 20], [16, 20], [20, 20]]);
    const controller = new AbortController();
    await expectRejectsWithoutLeak(
      () => rise(model, x, { samples: 100, batchSize: 4, signal: controller.signal, onProgress: () => controller.abort() }),
      /aborted/,
    );
    const vectors = tf.zeros([2, 5]);
    await expectRejectsWithoutLeak(() => rise(model, vectors, { samples: 4 }), /x: expected a batch of images/);
    await expectRejectsWithoutLeak(() => rise(model, x, { samples: 0 }), /options\.samples/);
    await expectRejectsWithoutLeak(() => rise(model, x, { keepProbability: 0 }), /options\.keepProbability/);
    await expectRejectsWithoutLeak(() => rise(model, x, { gridSize: 2.5 }), /options\.gridSize/);
    await expectRejectsWithoutLeak(() => rise(model, x, { samples: 4, target: 3 }), /options\.target: index 3 is out of range/);
    [ones, vectors].forEach((t) => t.dispose());
  });
});
