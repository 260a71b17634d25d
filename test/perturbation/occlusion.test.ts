import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { occlusion } from '../../src/index';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak, seededTensor, seededValues } from '../helpers';
import { topDecileInside } from './reference';

/** Row-major indices of an n-d shape. */
function unravel(index: number, shape: number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = index % shape[d];
    index = Math.floor(index / shape[d]);
  }
  return out;
}

/**
 * Occlusion of `f(x) = Σ w·x` computed directly: for every window position, the score drop
 * Σ_{j ∈ window} w_j (x_j − b_j) credited to each covered feature, averaged over the covering windows.
 */
function linearOcclusion(xs: ArrayLike<number>, bs: ArrayLike<number>, ws: ArrayLike<number>, features: number[], window: number[], strides: number[]): Float64Array {
  const size = features.reduce((a, b) => a * b, 1);
  const examples = xs.length / size;
  const out = new Float64Array(xs.length);
  const positions = features.map((n, d) => Math.floor((n - window[d]) / strides[d]) + 1);
  const windows = positions.reduce((a, b) => a * b, 1);
  for (let e = 0; e < examples; e++) {
    const sums = new Float64Array(size);
    const counts = new Float64Array(size);
    for (let k = 0; k < windows; k++) {
      const start = unravel(k, positions).map((p, d) => p * strides[d]);
      const covered = (j: number) => unravel(j, features).every((v, d) => v >= start[d] && v < start[d] + window[d]);
      let drop = 0;
      for (let j = 0; j < size; j++) if (covered(j)) drop += ws[j] * (xs[e * size + j] - bs[e * size + j]);
      for (let j = 0; j < size; j++) {
        if (!covered(j)) continue;
        sums[j] += drop;
        counts[j] += 1;
      }
    }
    for (let j = 0; j < size; j++) out[e * size + j] = counts[j] > 0 ? sums[j] / counts[j] : 0;
  }
  return out;
}

describe('occlusion', () => {
  it('on a linear model equals the exact per-window sums, for any rank, strides and baseline', async () => {
    const cases: { features: number[]; window: number[]; strides: number[] }[] = [
      { features: [7, 6, 2], window: [3, 2, 2], strides: [2, 2, 1] },
      { features: [9], window: [4], strides: [3] }, // the last feature is covered by no window
      { features: [4, 5, 3, 2], window: [2, 3, 1, 2], strides: [1, 2, 1, 1] },
    ];
    for (const [c, { features, window, strides }] of cases.entries()) {
      const size = features.reduce((a, b) => a * b, 1);
      const x = tf.tensor(seededValues(2 * size, 40 + c), [2, ...features]);
      const weights = seededValues(size, 50 + c);
      const model = (v: tf.Tensor) => tf.matMul(tf.reshape(v, [v.shape[0], size]), tf.tensor2d(weights, [size, 1]));
      const baseline = tf.tensor(seededValues(size, 60 + c), [1, ...features]);
      for (const b of [0, baseline, 0.5]) {
        const result = await expectNoLeak(() => occlusion(model, x, { window, strides, baseline: b, batchSize: 5 }));
        expect(result.shape).toEqual(x.shape);
        const bs = typeof b === 'number' ? new Float32Array(2 * size).fill(b) : Float32Array.from({ length: 2 * size }, (_, i) => seededValues(size, 60 + c)[i % size]);
        await expectClose(result, linearOcclusion(await x.data(), bs, weights, features, window, strides), 1e-4);
        result.dispose();
      }
      [x, baseline].forEach((t) => t.dispose());
    }
  });

  it('concentrates on the only region the score depends on', async () => {
    const [H, W] = [20, 24];
    const inside = (p: number) => Math.floor(p / W) >= 5 && Math.floor(p / W) < 13 && p % W >= 3 && p % W < 12;
    const weights = tf.tensor4d(Array.from({ length: H * W * 3 }, (_, k) => (inside(Math.floor(k / 3)) ? 1 : 0)), [1, H, W, 3]);
    const model = (v: tf.Tensor) => tf.reshape(tf.sum(tf.mul(v, weights), [1, 2, 3]), [-1, 1]);
    const x = tf.tidy(() => tf.add(tf.mul(seededTensor([1, H, W, 3], 3), 0.5), 0.5));
    const map = await occlusion(model, x, { window: [4, 4, 3], strides: [2, 2, 3], batchSize: 64 });
    const values = await map.data();
    expect(topDecileInside(Array.from({ length: H * W }, (_, p) => values[p * 3]), inside)).toBeGreaterThan(0.8);
    [weights, x, map].forEach((t) => t.dispose());
  });

  it('takes one stride for every axis, reports progress over all passes, aborts and rejects bad options', async () => {
    const x = seededTensor([2, 4, 4], 9);
    const model = (v: tf.Tensor) => tf.reshape(tf.sum(v, [1, 2]), [-1, 1]);
    const calls: [number, number][] = [];
    const a = await occlusion(model, x, { window: [2, 2], strides: 2, batchSize: 3, onProgress: (d, t) => calls.push([d, t]) });
    const b = await occlusion(model, x, { window: [2, 2], strides: [2, 2] });
    await expectClose(a, b, 0);
    // 2 unoccluded + 2 × 4 windows.
    expect(calls).toEqual([[2, 10], [5, 10], [8, 10], [10, 10]]);
    const controller = new AbortController();
    await expectRejectsWithoutLeak(
      () => occlusion(model, x, { window: [1, 1], batchSize: 2, signal: controller.signal, onProgress: () => controller.abort() }),
      /aborted/,
    );
    await expectRejectsWithoutLeak(() => occlusion(model, x, { window: [2] }), /options\.window: expected 2 positive integers, one per feature axis of \[4, 4\]/);
    await expectRejectsWithoutLeak(() => occlusion(model, x, { window: [5, 1] }), /options\.window: window \[5, 1\] does not fit/);
    await expectRejectsWithoutLeak(() => occlusion(model, x, { window: [2, 2], strides: [0, 1] }), /options\.strides/);
    await expectRejectsWithoutLeak(() => occlusion(model, x, undefined as never), /options\.window/);
    const wrong = tf.zeros([1, 3, 3]);
    await expectRejectsWithoutLeak(() => occlusion(model, x, { window: [2, 2], baseline: wrong }), /options\.baseline/);
    [x, a, b, wrong].forEach((t) => t.dispose());
  });
});
