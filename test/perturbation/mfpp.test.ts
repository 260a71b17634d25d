import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { mfpp, slic } from '../../src/index';
import { seededInteger, seededUniforms } from '../../src/attribution/perturbation/mask-random';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak, seededTensor } from '../helpers';
import { topDecileInside, upsampleAndCrop } from './reference';

const [H, W] = [16, 20];

function linearModel(weights: tf.Tensor): (x: tf.Tensor) => tf.Tensor {
  return (x) => tf.reshape(tf.sum(tf.mul(x, weights), [1, 2, 3]), [-1, 1]);
}

describe('mfpp', () => {
  const x = tf.tidy(() => tf.add(tf.mul(seededTensor([2, H, W, 3], 14), 0.5), 0.5));
  afterAll(() => x.dispose());

  it('equals Σ sigmoid(f(x ⊙ M_i)) M_i / (N (1 − p)) over fragment masks recomputed in plain JS', async () => {
    const weights = seededTensor([1, H, W, 3], 18, 0.2);
    const [masks, levels, baseSegments, p, seed, resizeOffset] = [9, 2, 6, 0.4, 31, 1.5];
    const result = await expectNoLeak(() =>
      mfpp(linearModel(weights), x, { masks, levels, baseSegments, dropProbability: p, seed, resizeOffset, batchSize: 4 }),
    );
    expect(result.shape).toEqual(x.shape);
    const xs = await x.data();
    const ws = await weights.data();
    const up: [number, number] = [H + Math.floor(resizeOffset * H), W + Math.floor(resizeOffset * W)];
    const expected = new Float64Array(2 * H * W * 3);
    for (let e = 0; e < 2; e++) {
      const image = tf.reshape(tf.slice(x, [e, 0, 0, 0], [1, H, W, 3]), [H, W, 3]);
      const pyramid = [];
      for (let l = 0; l < levels; l++) pyramid.push(await slic(image, { segments: baseSegments * 2 ** l, compactness: 10, smoothing: 1 }));
      image.dispose();
      for (let i = 0; i < masks; i++) {
        const { labels, count } = pyramid[Math.floor((i * levels) / masks)];
        const kept = seededUniforms(count, seed, i);
        const fragments = Array.from(labels, (l) => (kept[l] >= p ? 1 : 0));
        const offset: [number, number] = [seededInteger(up[0] - H + 1, seed, i, 1), seededInteger(up[1] - W + 1, seed, i, 2)];
        const mask = upsampleAndCrop(fragments, [H, W], up, [H, W], offset);
        let logit = 0;
        for (let k = 0; k < H * W * 3; k++) logit += ws[k] * xs[e * H * W * 3 + k] * mask[Math.floor(k / 3)];
        const score = 1 / (1 + Math.exp(-logit));
        for (let k = 0; k < H * W * 3; k++) expected[e * H * W * 3 + k] += (score * mask[Math.floor(k / 3)]) / (masks * (1 - p));
      }
    }
    await expectClose(result, expected, 1e-4);
    [weights, result].forEach((t) => t.dispose());
  });

  it('gives a constant model its constant (its sigmoid by default), with an error that shrinks with N', async () => {
    const first = tf.slice(x, 0, 1);
    const constant = (v: tf.Tensor) => tf.tile(tf.tensor2d([[-1, 0.8]]), [v.shape[0], 1]);
    const error = async (masks: number, score: 'none' | 'sigmoid', value: number): Promise<number> => {
      const map = await mfpp(constant, first, { target: 1, masks, seed: 4, batchSize: 250, score });
      const values = await map.data();
      map.dispose();
      return Array.from(values).reduce((s, v) => s + Math.abs(v - value), 0) / values.length;
    };
    const coarse = await error(40, 'none', 0.8);
    const fine = await error(640, 'none', 0.8);
    expect(fine).toBeLessThan(0.1 * 0.8);
    expect(fine).toBeLessThan(0.5 * coarse);
    expect(await error(640, 'sigmoid', 1 / (1 + Math.exp(-0.8)))).toBeLessThan(0.1);
    first.dispose();
  });

  it('concentrates on the only region the score depends on', async () => {
    const inside = (p: number) => {
      const [y, xx] = [Math.floor(p / W), p % W];
      return y >= 3 && y < 10 && xx >= 10 && xx < 18;
    };
    const weights = tf.tensor4d(Array.from({ length: H * W * 3 }, (_, k) => (inside(Math.floor(k / 3)) ? 1 : 0)), [1, H, W, 3]);
    const map = await mfpp(linearModel(weights), x, { masks: 1000, seed: 3, batchSize: 500, score: 'none' });
    const values = await map.data();
    for (let e = 0; e < 2; e++) {
      const perPixel = Array.from({ length: H * W }, (_, p) => values[(e * H * W + p) * 3]);
      expect(topDecileInside(perPixel, inside)).toBeGreaterThan(0.8);
    }
    [weights, map].forEach((t) => t.dispose());
  });

  it('is reproducible with a seed and independent of batchSize; softmax scores the softmax of the output', async () => {
    const model = (v: tf.Tensor) => tf.stack([tf.mean(v, [1, 2, 3]), tf.max(v, [1, 2, 3]), tf.min(v, [1, 2, 3])], 1);
    const options = { masks: 20, levels: 3, baseSegments: 10, seed: 8 };
    const a = await mfpp(model, x, { ...options, target: [0, 2], batchSize: 7 });
    const b = await mfpp(model, x, { ...options, target: [0, 2], batchSize: 64 });
    await expectClose(a, b, 1e-6);
    const c = await mfpp(model, x, { ...options, target: [0, 2], seed: 9 });
    expect(Array.from(await c.data())).not.toEqual(Array.from(await a.data()));
    const soft = await mfpp(model, x, { ...options, target: 1, score: 'softmax' });
    const manual = await mfpp((v: tf.Tensor) => tf.softmax(model(v)), x, { ...options, target: 1, score: 'none' });
    await expectClose(soft, manual, 1e-5);
    [a, b, c, soft, manual].forEach((t) => t.dispose());
  });

  it('reports progress, aborts and rejects bad input without leaking', async () => {
    const ones = tf.ones([1, H, W, 3]);
    const model = linearModel(ones);
    const calls: [number, number][] = [];
    const map = await mfpp(model, x, { samples: 6, levels: 2, batchSize: 5, onProgress: (d, t) => calls.push([d, t]) });
    map.dispose();
    expect(calls).toEqual([[5, 12], [10, 12], [12, 12]]);
    const controller = new AbortController();
    await expectRejectsWithoutLeak(
      () => mfpp(model, x, { samples: 100, batchSize: 4, signal: controller.signal, onProgress: () => controller.abort() }),
      /aborted/,
    );
    const vectors = tf.zeros([2, 5]);
    await expectRejectsWithoutLeak(() => mfpp(model, vectors, { samples: 4 }), /x: expected a batch of images/);
    await expectRejectsWithoutLeak(() => mfpp(model, x, { dropProbability: 1 }), /options\.dropProbability/);
    await expectRejectsWithoutLeak(() => mfpp(model, x, { levels: 0 }), /options\.levels/);
    await expectRejectsWithoutLeak(() => mfpp(model, x, { score: 'tanh' as never }), /options\.score: expected one of 'none', 'softmax', 'sigmoid', got "tanh"/);
    await expectRejectsWithoutLeak(() => mfpp(model, x, { resizeOffset: -1 }), /options\.resizeOffset/);
    [ones, vectors].forEach((t) => t.dispose());
  });
});
