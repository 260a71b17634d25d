/**
 * The replacements that make gradients faster are exact: each is compared with tfjs's own gradient or
 * kernel (outside the scope) on small shapes, boundary values included.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { withBackendGapFixesSync } from '../../src/core/backend-gaps';
import { expectClose, expectNoLeak, seededTensor } from '../helpers';
import { expectRegistry, snapshotRegistry } from './registry';

const pristine = snapshotRegistry();
afterEach(() => expectRegistry(pristine));

/** Gradients of `f` with respect to every input, outside and inside the scope. */
function bothWays(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor) {
  const grads = () => tf.grads((...vs: tf.Tensor[]) => tf.sum(tf.mul(f(...vs), dy)) as tf.Scalar)(xs);
  return { tfjs: grads(), ours: withBackendGapFixesSync(grads) };
}

describe('fast gradients: batch normalization', () => {
  it('matches tfjs for x, mean, variance, scale and offset (per-channel parameters)', async () => {
    const x = seededTensor([2, 3, 3, 4], 171);
    const mean = seededTensor([4], 172);
    const variance = tf.add(tf.abs(seededTensor([4], 173)), 0.2);
    const offset = seededTensor([4], 174);
    const scale = seededTensor([4], 175, 2);
    const dy = seededTensor([2, 3, 3, 4], 176);
    const f = (...[a, m, v, o, s]: tf.Tensor[]) => tf.batchNorm(a, m, v, o, s, 1e-3);
    const { tfjs, ours } = await expectNoLeak(() => bothWays(f, [x, mean, variance, offset, scale], dy));
    for (let i = 0; i < 5; i++) await expectClose(ours[i], tfjs[i], 1e-5);
    tf.dispose([x, mean, variance, offset, scale, dy, ...tfjs, ...ours]);
  });

  it('is exact with parameters broadcast from [1, 1, 1, C] and on 2-D input', async () => {
    const x = seededTensor([2, 2, 3, 3], 177);
    const [mean, variance, scale] = [seededTensor([1, 1, 1, 3], 178), tf.add(tf.abs(seededTensor([1, 1, 1, 3], 179)), 0.5), seededTensor([1, 1, 1, 3], 180)];
    const dy = seededTensor(x.shape, 181);
    const [dx, dScale] = withBackendGapFixesSync(() =>
      tf.grads((a, s) => tf.sum(tf.mul(tf.batchNorm(a, mean, variance, undefined, s, 1e-3), dy)) as tf.Scalar)([x, scale]),
    );
    // dx = dy·γ/√(σ² + ε); dγ = Σ dy·(x − μ)/√(σ² + ε) over every axis but the channels.
    const expectedDx = tf.div(tf.mul(dy, scale), tf.sqrt(tf.add(variance, 1e-3)));
    const expectedScale = tf.sum(tf.div(tf.mul(dy, tf.sub(x, mean)), tf.sqrt(tf.add(variance, 1e-3))), [0, 1, 2], true);
    await expectClose(dx, expectedDx, 1e-5);
    await expectClose(dScale, expectedScale, 1e-5);
    expect(dScale.shape).toEqual([1, 1, 1, 3]);
    const x2 = seededTensor([5, 3], 182);
    const dy2 = seededTensor([5, 3], 183);
    const flat = (...[a, m, v, o, s]: tf.Tensor[]) => tf.batchNorm(a, m, v, o, s, 1e-3);
    const parameters = tf.tidy(() => [mean, variance, seededTensor([3], 188), scale].map((t) => tf.reshape(t, [3])));
    const { tfjs, ours } = bothWays(flat, [x2, ...parameters], dy2);
    for (let i = 0; i < 5; i++) await expectClose(ours[i], tfjs[i], 1e-5);
    tf.dispose([x, mean, variance, scale, dy, dx, dScale, expectedDx, expectedScale, x2, dy2, ...parameters, ...tfjs, ...ours]);
  });
});

describe('fast gradients: clipping activations', () => {
  // Boundary values included: exactly lo, hi, 0 and 6.
  const values = [-7, -1, -0.5, 0, 0.25, 1, 2, 2.5, 6, 6.5, 3, -0.0001];
  for (const [lo, hi] of [[0, 6], [-1, 2], [-0.5, 0.25]]) {
    it(`ClipByValue(${lo}, ${hi}) matches tfjs's gradient`, async () => {
      const x = tf.tensor1d(values);
      const dy = seededTensor([values.length], 184);
      const { tfjs, ours } = await expectNoLeak(() => bothWays((v) => tf.clipByValue(v, lo, hi), [x], dy));
      await expectClose(ours[0], tfjs[0], 0);
      tf.dispose([x, dy, ...tfjs, ...ours]);
    });
  }

  it("Relu matches tfjs's gradient", async () => {
    const x = tf.tensor2d(values, [3, 4]);
    const dy = seededTensor([3, 4], 189);
    const { tfjs, ours } = await expectNoLeak(() => bothWays(tf.relu, [x], dy));
    await expectClose(ours[0], tfjs[0], 0);
    tf.dispose([x, dy, ...tfjs, ...ours]);
  });

  it("Relu6 matches tfjs's gradient", async () => {
    const x = tf.tensor2d(values, [3, 4]);
    const dy = seededTensor([3, 4], 185);
    const { tfjs, ours } = await expectNoLeak(() => bothWays(tf.relu6, [x], dy));
    await expectClose(ours[0], tfjs[0], 0);
    tf.dispose([x, dy, ...tfjs, ...ours]);
  });
});

describe('fast kernels: Slice (cpu, copied in contiguous pieces; wasm, trailing whole axes merged), PadV2 (cpu, concatenations), the Concat gradient (cpu, slices) and Identity (wasm, shared)', () => {
  const x = () => seededTensor([3, 5, 6, 4], 186);
  const slices: [number[], number[]][] = [
    [[0, 1, 1, 0], [3, 3, 4, 4]], // spatial crop of a batch
    [[1, 0, 2, 0], [1, 5, 3, 4]], // columns of one example
    [[0, 0, 0, 1], [3, 5, 6, 2]], // channels (pieces too small: the backend's own copy)
    [[2, 4, 0, 0], [1, 1, 6, 4]], // contiguous
    [[0, 2, 0, 0], [-1, 2, -1, -1]], // sizes of −1: to the end
    [[1, 0, 0, 0], [2, 5, 5, 4]], // trailing whole channels merged into the columns (wasm)
    [[0, 1, 0, 0], [3, 3, 6, 4]], // rows of every example: trailing whole axes merged into the rows
  ];
  for (const [begin, size] of slices) {
    it(`tf.slice(x, [${begin}], [${size}]) is unchanged inside the scope`, async () => {
      const input = x();
      const expected = tf.slice(input, begin, size);
      const sliced = await expectNoLeak(() => withBackendGapFixesSync(() => tf.slice(input, begin, size)));
      expect(sliced.shape).toEqual(expected.shape);
      await expectClose(sliced, expected, 0);
      tf.dispose([input, expected, sliced]);
    });
  }

  it('a crop of dy (the gradient of a zero padding) is unchanged inside the scope', async () => {
    const input = x();
    const pad = (v: tf.Tensor) => tf.pad(v, [[0, 0], [1, 2], [0, 1], [0, 0]]);
    const dy = seededTensor([3, 8, 7, 4], 187);
    const { tfjs, ours } = bothWays(pad, [input], dy);
    await expectClose(ours[0], tfjs[0], 0);
    tf.dispose([input, dy, ...tfjs, ...ours]);
  });

  for (const [paddings, value, dtype] of [
    [[[0, 0], [1, 2], [0, 1], [0, 0]], 0, 'float32'],
    [[[1, 0], [0, 0], [3, 0], [0, 2]], -1.5, 'float32'],
    [[[0, 0], [0, 0], [0, 0], [0, 0]], 0, 'float32'],
    [[[0, 1], [2, 2], [0, 0], [1, 1]], 7, 'int32'],
  ] as [[number, number][], number, 'float32' | 'int32'][]) {
    it(`tf.pad(x, ${JSON.stringify(paddings)}, ${value}) on ${dtype} (concatenations on cpu) is unchanged inside the scope`, async () => {
      const input = tf.cast(tf.mul(x(), 3), dtype);
      const expected = tf.pad(input, paddings, value);
      const padded = await expectNoLeak(() => withBackendGapFixesSync(() => tf.pad(input, paddings, value)));
      expect(padded.shape).toEqual(expected.shape);
      expect(padded.dtype).toBe(dtype);
      await expectClose(padded, expected, 0);
      tf.dispose([input, expected, padded]);
    });
  }

  for (const axis of [0, 1, 2, 3, -1]) {
    it(`the gradient of a concatenation along axis ${axis} (slices instead of SplitV) is unchanged inside the scope`, async () => {
      const parts = [seededTensor([3, 5, 6, 4], 190), seededTensor([3, 5, 6, 4], 191), seededTensor([3, 5, 6, 4], 192)].map((t, k) =>
        tf.slice(t, [0, 0, 0, 0], t.shape.map((d, i) => (i === (axis + 4) % 4 ? k + 1 : d))),
      );
      const concatenated = tf.concat(parts, axis);
      const dy = seededTensor(concatenated.shape, 193);
      const { tfjs, ours } = await expectNoLeak(() => bothWays((...vs) => tf.concat(vs, axis), parts, dy));
      for (let k = 0; k < parts.length; k++) {
        expect(ours[k].shape).toEqual(parts[k].shape);
        await expectClose(ours[k], tfjs[k], 0);
      }
      tf.dispose([...parts, concatenated, dy, ...tfjs, ...ours]);
    });
  }

  it('clones share data inside the scope (as on cpu and webgl) and stay valid after the original is disposed', async () => {
    const original = tf.tensor1d([1, 2, 3]);
    const before = tf.memory().numDataBuffers;
    const clone = withBackendGapFixesSync(() => tf.clone(original));
    expect(tf.memory().numDataBuffers).toBe(before);
    original.dispose();
    await expectClose(clone, [1, 2, 3], 0);
    clone.dispose();
  });
});
