/**
 * Feature ablation and feature permutation: exact values on linear models, group values against direct
 * evaluations of the ablated inputs, feature masks (broadcast, per example, gaps in the ids, shared across
 * inputs), superpixels, token ids, GraphModels, progress, abort, leaks and bad input.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { featureAblation, featurePermutation, slic, superpixelMask } from '../../src/index';
import { batchPermutation } from '../../src/attribution/perturbation/feature-permutation';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak, seededTensor } from '../helpers';
import { setSeededWeights, smoothMlp } from '../helpers/models';

/** `f(x) = Σ w ⊙ x` per example (any rank), one output. */
function linear(weights: tf.Tensor): (x: tf.Tensor) => tf.Tensor {
  return (x) => tf.reshape(tf.sum(tf.reshape(tf.mul(x, weights), [x.shape[0], -1]), 1), [-1, 1]);
}

/** Scores of a model on plain-JS rows (one output per row, target column `target`). */
async function scoresOf(model: tfl.LayersModel, rows: number[][], target: number): Promise<number[]> {
  const out = tf.tidy(() => tf.slice(model.predict(tf.tensor2d(rows)) as tf.Tensor, [0, target], [-1, 1]));
  const values = Array.from(await out.data());
  out.dispose();
  return values;
}

describe('featureAblation', () => {
  it('on a linear model gives w ⊙ (x − b) per element, and group sums with a mask (gaps in ids, broadcast axis)', async () => {
    const x = seededTensor([2, 3, 4, 2], 1);
    const weights = seededTensor([1, 3, 4, 2], 2);
    const baseline = seededTensor([1, 3, 4, 2], 3);
    const model = linear(weights);
    const [xs, ws, bs] = await Promise.all([x.data(), weights.data(), baseline.data()]);
    const perElement = await expectNoLeak(() => featureAblation(model, x, { baseline, batchSize: 7 }));
    await expectClose(perElement, Array.from(xs, (v, k) => ws[k % 24] * (v - bs[k % 24])), 1e-5);
    // Groups over [3, 4, 1] (broadcast over the last axis), ids 0, 2 and 7 (not contiguous).
    const ids = [[[0], [0], [2], [2]], [[0], [7], [7], [2]], [[7], [7], [7], [2]]];
    const grouped = await expectNoLeak(() => featureAblation(model, x, { baseline: 0.5, featureMask: ids }));
    const idOf = (k: number) => ids[Math.floor(k / 8)][Math.floor(k / 2) % 4][0];
    const expected = Array.from(xs, (_, k) => {
      const e = Math.floor(k / 24);
      let sum = 0;
      for (let j = 0; j < 24; j++) if (idOf(j) === idOf(k % 24)) sum += ws[j] * (xs[e * 24 + j] - 0.5);
      return sum;
    });
    await expectClose(grouped, expected, 1e-5);
    [x, weights, baseline, perElement, grouped].forEach((t) => t.dispose());
  });

  it('on a non-linear model equals f(x) − f(x with the group at the baseline), per example masks included', async () => {
    const model = smoothMlp(5, 3, 4);
    const x = seededTensor([2, 5], 5);
    const xs = Array.from(await x.data());
    const rows = [xs.slice(0, 5), xs.slice(5)];
    // Example 0 has groups {0, 1}; example 1 has {3, 4, 9}.
    const masks = [[0, 0, 1, 1, 0], [4, 9, 3, 9, 9]];
    const mask = tf.tensor2d(masks, [2, 5], 'int32');
    const result = await expectNoLeak(() => featureAblation(model, x, { target: 2, featureMask: mask, baseline: -0.25, batchSize: 2 }));
    const expected: number[] = [];
    for (const e of [0, 1]) {
      const [original] = await scoresOf(model, [rows[e]], 2);
      for (let k = 0; k < 5; k++) {
        const ablated = rows[e].map((v, j) => (masks[e][j] === masks[e][k] ? -0.25 : v));
        expected.push(original - (await scoresOf(model, [ablated], 2))[0]);
      }
    }
    await expectClose(result, expected, 1e-5);
    // 2 examples: 1 + 2 and 1 + 3 passes.
    const progress: [number, number][] = [];
    (await featureAblation(model, x, { target: 2, featureMask: mask, batchSize: 4, onProgress: (d, t) => progress.push([d, t]) })).dispose();
    expect(progress).toEqual([[4, 7], [7, 7]]);
    [x, mask, result].forEach((t) => t.dispose());
    model.dispose();
  });

  it('groups ids across the inputs of a model with several (Captum), with a baseline per input', async () => {
    const a = tfl.input({ shape: [3] });
    const b = tfl.input({ shape: [2] });
    const joined = tfl.layers.concatenate().apply([a, b]) as tfl.SymbolicTensor;
    const hidden = tfl.layers.dense({ units: 4, activation: 'tanh' }).apply(joined) as tfl.SymbolicTensor;
    const model = setSeededWeights(tfl.model({ inputs: [a, b], outputs: tfl.layers.dense({ units: 2 }).apply(hidden) as tfl.SymbolicTensor }), 6, 0.8);
    const joint = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [5], units: 4, activation: 'tanh' }), tfl.layers.dense({ units: 2 })] });
    joint.setWeights(model.getWeights());
    const xa = seededTensor([2, 3], 7);
    const xb = seededTensor([2, 2], 8);
    tf.dispose(model.predict([xa, xb])); // tfjs-layers keeps tensors of a functional model's first call
    const ids = [[0, 1, 2], [2, 5]]; // id 2 spans both inputs
    const perChannel = tf.tensor1d([1, -1]);
    const [fa, fb] = await expectNoLeak(() => featureAblation(model, [xa, xb], { target: 1, featureMask: ids, baseline: [0, perChannel] }));
    expect(fa.shape).toEqual([2, 3]);
    expect(fb.shape).toEqual([2, 2]);
    const flat = [...ids[0], ...ids[1]];
    const base = [0, 0, 0, 1, -1];
    const [va, vb] = [await xa.data(), await xb.data()];
    const expected: number[] = [];
    for (const e of [0, 1]) {
      const row = [...va.slice(3 * e, 3 * e + 3), ...vb.slice(2 * e, 2 * e + 2)];
      const [original] = await scoresOf(joint, [row], 1);
      const drops = await scoresOf(joint, flat.map((id) => row.map((v, j) => (flat[j] === id ? base[j] : v))), 1);
      expected.push(...drops.map((d) => original - d));
    }
    const got = [...(await fa.data()).slice(0, 3), ...(await fb.data()).slice(0, 2), ...(await fa.data()).slice(3), ...(await fb.data()).slice(2)];
    await expectClose(got, expected, 1e-5);
    [xa, xb, perChannel, fa, fb].forEach((t) => t.dispose());
    model.dispose();
    joint.dispose();
  });

  it('ablates superpixels: every pixel and channel of a segment gets the segment value', async () => {
    const image = tf.tidy(() => tf.concat([tf.fill([1, 10, 5, 3], 0.9), tf.fill([1, 10, 5, 3], 0.1)], 2));
    const segments = await slic(tf.squeeze(image, [0]) as tf.Tensor3D, { segments: 2 });
    const mask = superpixelMask(segments);
    expect(mask.shape).toEqual([1, 10, 10, 1]);
    const weights = seededTensor([1, 10, 10, 3], 9);
    const result = await featureAblation(linear(weights), image, { featureMask: mask });
    const [xs, ws, values] = await Promise.all([image.data(), weights.data(), result.data()]);
    const sums = new Map<number, number>();
    segments.labels.forEach((label, p) => {
      for (let c = 0; c < 3; c++) sums.set(label, (sums.get(label) ?? 0) + ws[3 * p + c] * xs[3 * p + c]);
    });
    await expectClose(values, Array.from(values, (_, k) => sums.get(segments.labels[Math.floor(k / 3)])!), 1e-5);
    expect(() => superpixelMask([segments, { ...segments, height: 5 }])).toThrow(/superpixels\[1\]: expected a slic\(\) result with 10×10 labels/);
    [image, mask, weights, result].forEach((t) => t.dispose());
  });

  it('takes token ids with a baseline id, GraphModels and functions', async () => {
    const model = setSeededWeights(
      tfl.sequential({ layers: [tfl.layers.embedding({ inputDim: 10, outputDim: 3, inputLength: 4 }), tfl.layers.flatten(), tfl.layers.dense({ units: 2 })] }),
      10,
    );
    const ids = tf.tensor2d([[1, 5, 7, 2], [3, 3, 9, 0]], undefined, 'int32');
    const result = await expectNoLeak(() => featureAblation(model, ids, { target: 1, baseline: 0 }));
    const rows = (await ids.array()) as number[][];
    const expected: number[] = [];
    for (const row of rows) {
      const variants = [row, ...row.map((_, k) => row.map((v, j) => (j === k ? 0 : v)))];
      const out = tf.tidy(() => tf.slice(model.predict(tf.tensor2d(variants, undefined, 'int32')) as tf.Tensor, [0, 1], [-1, 1]));
      const s = await out.data();
      out.dispose();
      expected.push(...row.map((_, k) => s[0] - s[1 + k]));
    }
    await expectClose(result, expected, 1e-6);
    // A GraphModel-like model (execute with named feeds) and a plain function agree.
    const w = tf.tensor2d([[1, -2], [0.5, 3], [2, 1]]);
    const graph = {
      inputNodes: ['x'],
      outputNodes: ['y'],
      inputs: [{ name: 'x', shape: [-1, 3], dtype: 'float32' as const }],
      outputs: [{ name: 'y', shape: [-1, 2], dtype: 'float32' as const }],
      weights: {},
      predict: () => tf.zeros([1]),
      execute: (feed: tf.NamedTensorMap) => tf.matMul(feed.x, w),
    };
    const x = tf.tensor2d([[1, 2, 3]]);
    const viaGraph = await featureAblation(graph, x, { target: 1 });
    await expectClose(viaGraph, [-2, 6, 3], 1e-6);
    [ids, result, w, x, viaGraph].forEach((t) => t.dispose());
    model.dispose();
  });

  it('does not depend on batchSize, aborts without leaks and rejects bad masks and options', async () => {
    const model = smoothMlp(4, 2, 11);
    const x = seededTensor([3, 4], 12);
    const a = await featureAblation(model, x, { target: 0, batchSize: 1 });
    const b = await featureAblation(model, x, { target: 0 });
    await expectClose(a, b, 1e-6);
    const controller = new AbortController();
    await expectRejectsWithoutLeak(
      () => featureAblation(model, x, { target: 0, batchSize: 2, signal: controller.signal, onProgress: () => controller.abort() }),
      /aborted/,
    );
    await expectRejectsWithoutLeak(() => featureAblation(model, x, { target: 0, featureMask: [0, 1, 2] }), /options\.featureMask: expected ids shaped like one example \[4\].*got shape \[3\]/);
    await expectRejectsWithoutLeak(() => featureAblation(model, x, { target: 0, featureMask: [[0, 1, 2, 3], [0, 1, 2, 3]] }), /options\.featureMask: .*batch axis of 1 or 3 first, got shape \[2, 4\]/);
    await expectRejectsWithoutLeak(() => featureAblation(model, x, { target: 0, featureMask: [0, 1.5, 2, 3] }), /options\.featureMask: expected non-negative integer ids, got 1\.5 at flat index 1/);
    await expectRejectsWithoutLeak(() => featureAblation(model, x, { target: 0, featureMask: [0, -1, 2, 3] }), /non-negative integer ids, got -1/);
    await expectRejectsWithoutLeak(() => featureAblation(model, x, { target: 0, featureMask: [[0, 1], [2]] as never }), /options\.featureMask: expected a rectangular nested array of shape \[2, 2\]/);
    const floatIds = tf.tensor1d([0, 1, 0.25, 1]);
    await expectRejectsWithoutLeak(() => featureAblation(model, x, { target: 0, featureMask: floatIds }), /got 0\.25 at flat index 2/);
    await expectRejectsWithoutLeak(() => featureAblation(model, x, { target: 0, feature_mask: [0, 0, 1, 1] } as never), /options\.feature_mask: unknown option; Captum's\/Zennit's 'feature_mask' is called 'featureMask' here/);
    await expectRejectsWithoutLeak(() => featureAblation(model, x, { target: 0, featureMask: 'pixels' as never }), /options\.featureMask: expected integer ids as a tf\.Tensor or a \(nested\) array, got "pixels"/);
    [x, a, b, floatIds].forEach((t) => t.dispose());
    model.dispose();
  });
});

describe('featurePermutation', () => {
  it("on a linear model gives Σ_group w (x_e − x_π(e)) with each group's seeded permutation of the batch", async () => {
    const x = seededTensor([4, 6], 13);
    const weights = seededTensor([1, 6], 14);
    const ids = [0, 0, 1, 2, 2, 2];
    const seed = 5;
    const result = await expectNoLeak(() => featurePermutation(linear(weights), x, { featureMask: ids, seed, batchSize: 3 }));
    const [xs, ws] = [await x.data(), await weights.data()];
    const permutations = [0, 1, 2].map((g) => batchPermutation(4, seed, g));
    const expected = Array.from(xs, (_, k) => {
      const [e, j] = [Math.floor(k / 6), k % 6];
      const source = permutations[ids[j]][e];
      let sum = 0;
      for (let i = 0; i < 6; i++) if (ids[i] === ids[j]) sum += ws[i] * (xs[e * 6 + i] - xs[source * 6 + i]);
      return sum;
    });
    await expectClose(result, expected, 1e-5);
    permutations.forEach((p) => expect(Array.from(p).every((v, i) => v === i)).toBe(false));
    const again = await featurePermutation(linear(weights), x, { featureMask: ids, seed });
    await expectClose(again, result, 1e-6);
    const controller = new AbortController();
    await expectRejectsWithoutLeak(
      () => featurePermutation(linear(weights), x, { featureMask: ids, batchSize: 2, signal: controller.signal, onProgress: () => controller.abort() }),
      /aborted/,
    );
    [x, weights, result, again].forEach((t) => t.dispose());
  });

  it('needs a batch of two or more and the same groups for every example', async () => {
    const model = smoothMlp(4, 2, 15);
    const one = seededTensor([1, 4], 16);
    const two = seededTensor([2, 4], 17);
    await expectRejectsWithoutLeak(() => featurePermutation(model, one, { target: 0 }), /x: featurePermutation permutes features across the batch and needs at least 2 examples, got 1/);
    await expectRejectsWithoutLeak(() => featurePermutation(model, two, { target: 0, featureMask: [[0, 0, 1, 1], [0, 1, 1, 1]] }), /options\.featureMask: featurePermutation needs the same groups for every example/);
    await expectRejectsWithoutLeak(() => featurePermutation(model, two, { target: 0, baseline: 0 } as never), /options\.baseline: unknown option/);
    [one, two].forEach((t) => t.dispose());
    model.dispose();
  });
});
