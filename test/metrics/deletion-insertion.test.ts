import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { deletionInsertion } from '../../src/index';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak, seededValues } from '../helpers';

/** `f(x) = x·W + b` on flattened features with `classes` outputs, as a plain function model. */
function linearModel(weights: Float32Array, size: number, classes = 1, bias = 0.25) {
  return (v: tf.Tensor) => tf.add(tf.matMul(tf.reshape(v, [v.shape[0], size]), tf.tensor2d(weights, [size, classes])), bias);
}

/** Plain-JS scores of a linear model `[N × classes]` (row-major). */
function linearScores(xs: ArrayLike<number>, weights: ArrayLike<number>, size: number, classes: number, bias: number): number[][] {
  const n = xs.length / size;
  return Array.from({ length: n }, (_, e) =>
    Array.from({ length: classes }, (_, c) => {
      let s = bias;
      for (let j = 0; j < size; j++) s += xs[e * size + j] * weights[j * classes + c];
      return s;
    }),
  );
}

/** Pixel order by decreasing saliency (sum over `channels`), ties by index. */
function pixelOrder(saliency: ArrayLike<number>, pixels: number, channels: number): number[] {
  const perPixel = Array.from({ length: pixels }, (_, p) => {
    let s = 0;
    for (let c = 0; c < channels; c++) s += saliency[p * channels + c];
    return s;
  });
  return Array.from({ length: pixels }, (_, p) => p).sort((a, b) => perPixel[b] - perPixel[a] || a - b);
}

/**
 * One example's curve: in `steps` steps of ⌈P/K⌉ pixels (all channels), copy pixels in `order` from
 * `finish` into `start` and score every image with `score`.
 */
function referenceCurve(
  start: ArrayLike<number>,
  finish: ArrayLike<number>,
  order: number[],
  channels: number,
  steps: number,
  score: (image: number[]) => number,
): number[] {
  const pixels = order.length;
  const perStep = Math.ceil(pixels / steps);
  return Array.from({ length: steps + 1 }, (_, k) => {
    const image = Array.from(start);
    for (const p of order.slice(0, Math.min(k * perStep, pixels))) for (let c = 0; c < channels; c++) image[p * channels + c] = finish[p * channels + c];
    return score(image);
  });
}

const auc = (curve: number[]) => (curve.reduce((a, b) => a + b, 0) - curve[0] / 2 - curve[curve.length - 1] / 2) / (curve.length - 1);

/** Normalised Gaussian blur (weights of the pixels inside the image only), pixel by pixel. */
function referenceBlur(image: ArrayLike<number>, height: number, width: number, channels: number, size = 11, sigma = 5): number[] {
  const radius = (size - 1) / 2;
  const g = (d: number) => Math.exp(-(d * d) / (2 * sigma * sigma));
  const out = new Array<number>(image.length).fill(0);
  for (let i = 0; i < height; i++) {
    for (let j = 0; j < width; j++) {
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        let weight = 0;
        for (let di = -radius; di <= radius; di++) {
          for (let dj = -radius; dj <= radius; dj++) {
            const [y, x] = [i + di, j + dj];
            if (y < 0 || y >= height || x < 0 || x >= width) continue;
            sum += g(di) * g(dj) * image[(y * width + x) * channels + c];
            weight += g(di) * g(dj);
          }
        }
        out[(i * width + j) * channels + c] = sum / weight;
      }
    }
  }
  return out;
}

const slice = (a: ArrayLike<number>, e: number, size: number) => Array.from(a).slice(e * size, (e + 1) * size);

describe('deletionInsertion', () => {
  it('matches curves and AUCs computed by hand for a linear model on images (deletion to a baseline, insertion from the blur)', async () => {
    const [N, H, W, C] = [2, 5, 4, 3];
    const size = H * W * C;
    const xs = seededValues(N * size, 11);
    const weights = seededValues(size, 12);
    const saliency = seededValues(N * size, 13);
    const x = tf.tensor4d(xs, [N, H, W, C]);
    const attribution = tf.tensor4d(saliency, [N, H, W, C]);
    const model = linearModel(weights, size, 1, 0.25);
    const score = (image: ArrayLike<number>) => linearScores(image, weights, size, 1, 0.25)[0][0];
    const baselineValues = seededValues(size, 14);
    const baseline = tf.tensor4d(baselineValues, [1, H, W, C]);
    for (const steps of [6, 7, 20, 33]) {
      const result = await expectNoLeak(() => deletionInsertion(model, x, attribution, { curveSteps: steps, baseline, batchSize: 7 }));
      expect(result.deletionCurve.shape).toEqual([N, steps + 1]);
      expect(result.insertion.shape).toEqual([N]);
      const expectedDeletion: number[][] = [];
      const expectedInsertion: number[][] = [];
      for (let e = 0; e < N; e++) {
        const order = pixelOrder(slice(saliency, e, size), H * W, C);
        const image = slice(xs, e, size);
        expectedDeletion.push(referenceCurve(image, baselineValues, order, C, steps, score));
        expectedInsertion.push(referenceCurve(referenceBlur(image, H, W, C), image, order, C, steps, score));
      }
      await expectClose(result.deletionCurve, expectedDeletion.flat(), 1e-5);
      await expectClose(result.insertionCurve, expectedInsertion.flat(), 1e-5);
      await expectClose(result.deletion, expectedDeletion.map(auc), 1e-5);
      await expectClose(result.insertion, expectedInsertion.map(auc), 1e-5);
      // The curves start on the start image and end on the finish image.
      const curve = await result.deletionCurve.array();
      expect(curve[0][steps]).toBeCloseTo(score(baselineValues), 4);
      expect(curve[1][0]).toBeCloseTo(score(slice(xs, 1, size)), 4);
      Object.values(result).forEach((t) => t.dispose());
    }
    [x, attribution, baseline].forEach((t) => t.dispose());
  });

  it('accepts [N, H, W] and [N, H, W, 1] attributions for [N, H, W, C] images and grey images [N, H, W]', async () => {
    const [N, H, W, C] = [2, 4, 6, 2];
    const size = H * W * C;
    const x = tf.tensor4d(seededValues(N * size, 21), [N, H, W, C]);
    const weights = seededValues(size, 22);
    const model = linearModel(weights, size);
    const full = tf.tensor4d(seededValues(N * size, 23), [N, H, W, C]);
    const summed = tf.sum(full, 3);
    const kept = tf.expandDims(summed, 3);
    const results = [];
    for (const a of [full, summed, kept]) results.push(await deletionInsertion(model, x, a, { curveSteps: 5 }));
    for (const r of results.slice(1)) {
      await expectClose(r.deletionCurve, results[0].deletionCurve, 1e-6);
      await expectClose(r.insertionCurve, results[0].insertionCurve, 1e-6);
    }
    // Grey images without a channel axis.
    const grey = tf.tensor3d(seededValues(N * H * W, 24), [N, H, W]);
    const greyWeights = seededValues(H * W, 25);
    const greyScore = (image: number[]) => linearScores(image, greyWeights, H * W, 1, 0.25)[0][0];
    const greyMap = tf.tensor3d(seededValues(N * H * W, 26), [N, H, W]);
    const r = await expectNoLeak(() => deletionInsertion(linearModel(greyWeights, H * W), grey, greyMap, { steps: 4, mode: 'insertion' }));
    expect(Object.keys(r).sort()).toEqual(['insertion', 'insertionCurve']);
    const [gs, gm] = [await grey.data(), await greyMap.data()];
    const expected = [0, 1].map((e) => {
      const image = slice(gs, e, H * W);
      return referenceCurve(referenceBlur(image, H, W, 1), image, pixelOrder(slice(gm, e, H * W), H * W, 1), 1, 4, greyScore);
    });
    await expectClose(r.insertionCurve, expected.flat(), 1e-5);
    [x, full, summed, kept, grey, greyMap, r.insertion, r.insertionCurve].forEach((t) => t.dispose());
    results.forEach((res) => Object.values(res).forEach((t) => t.dispose()));
  });

  it('ranks the entries of [N, D] inputs, breaks ties by index, and starts insertion at the baseline there', async () => {
    const D = 7;
    const xs = seededValues(3 * D, 31);
    const weights = seededValues(D, 32);
    const x = tf.tensor2d(xs, [3, D]);
    const ties = tf.zeros([3, D]); // every entry ties: the order is 0, 1, 2, ...
    const model = linearModel(weights, D, 1, 0);
    const score = (v: number[]) => linearScores(v, weights, D, 1, 0)[0][0];
    const result = await expectNoLeak(() => deletionInsertion(model, x, ties, { curveSteps: 3, baseline: 0.5 }));
    const order = Array.from({ length: D }, (_, i) => i);
    const half = new Array<number>(D).fill(0.5);
    await expectClose(result.deletionCurve, [0, 1, 2].flatMap((e) => referenceCurve(slice(xs, e, D), half, order, 1, 3, score)), 1e-5);
    await expectClose(result.insertionCurve, [0, 1, 2].flatMap((e) => referenceCurve(half, slice(xs, e, D), order, 1, 3, score)), 1e-5);
    const explicit = await deletionInsertion(model, x, ties, { curveSteps: 3, baseline: 0.5, insertionStart: 0.5, mode: 'insertion' });
    await expectClose(explicit.insertionCurve, result.insertionCurve, 0);
    Object.values(result).forEach((t) => t.dispose());
    Object.values(explicit).forEach((t) => t.dispose());
    [x, ties].forEach((t) => t.dispose());
  });

  it('scores softmax probabilities of per-example targets when asked', async () => {
    const [N, D, classes] = [3, 6, 4];
    const xs = seededValues(N * D, 41);
    const weights = seededValues(D * classes, 42);
    const saliency = seededValues(N * D, 43);
    const x = tf.tensor2d(xs, [N, D]);
    const attribution = tf.tensor2d(saliency, [N, D]);
    const target = [2, 0, 3];
    const result = await deletionInsertion(linearModel(weights, D, classes, 0.1), x, attribution, { target, steps: 4, score: 'softmax', mode: 'deletion' });
    const softmax = (logits: number[], c: number) => Math.exp(logits[c]) / logits.reduce((s, l) => s + Math.exp(l), 0);
    const expected = [0, 1, 2].flatMap((e) =>
      referenceCurve(slice(xs, e, D), new Array(D).fill(0), pixelOrder(slice(saliency, e, D), D, 1), 1, 4, (v) =>
        softmax(linearScores(v, weights, D, classes, 0.1)[0], target[e]),
      ),
    );
    await expectClose(result.deletionCurve, expected, 1e-5);
    const values = await result.deletionCurve.data();
    expect(values.every((v) => v > 0 && v < 1)).toBe(true);
    [x, attribution, result.deletion, result.deletionCurve].forEach((t) => t.dispose());
  });

  it('gives a faithful attribution of a linear model a lower deletion and higher insertion AUC than its reverse', async () => {
    const [N, H, W] = [3, 8, 8];
    const size = H * W;
    const x = tf.tensor4d(seededValues(N * size, 51), [N, H, W, 1]);
    const w = tf.tensor4d(seededValues(size, 52), [1, H, W, 1]);
    const model = linearModel(await w.data() as Float32Array, size, 1, 0);
    const exact = tf.mul(x, w); // each pixel's exact contribution
    const reversed = tf.neg(exact);
    const good = await deletionInsertion(model, x, exact, { curveSteps: 16, insertionStart: 0 });
    const bad = await deletionInsertion(model, x, reversed, { curveSteps: 16, insertionStart: 0 });
    const [gd, bd, gi, bi] = await Promise.all([good.deletion.data(), bad.deletion.data(), good.insertion.data(), bad.insertion.data()]);
    for (let e = 0; e < N; e++) {
      expect(gd[e]).toBeLessThan(bd[e]);
      expect(gi[e]).toBeGreaterThan(bi[e]);
    }
    [x, w, exact, reversed, ...Object.values(good), ...Object.values(bad)].forEach((t) => t.dispose());
  });

  it('does not depend on batchSize, reports progress over every forward pass and aborts without leaking', async () => {
    const [N, H, W, C] = [3, 6, 5, 2];
    const size = H * W * C;
    const x = tf.tensor4d(seededValues(N * size, 61), [N, H, W, C]);
    const a = tf.tensor4d(seededValues(N * size, 62), [N, H, W, C]);
    const model = linearModel(seededValues(size, 63), size);
    const calls: [number, number][] = [];
    const reference = await deletionInsertion(model, x, a, { curveSteps: 6, batchSize: 1000 });
    const chunked = await deletionInsertion(model, x, a, { curveSteps: 6, batchSize: 5, onProgress: (d, t) => calls.push([d, t]) });
    await expectClose(chunked.deletionCurve, reference.deletionCurve, 1e-6);
    await expectClose(chunked.insertionCurve, reference.insertionCurve, 1e-6);
    const total = 2 * N * 7;
    expect(calls.length).toBe(Math.ceil(total / 5));
    expect(calls.at(-1)).toEqual([total, total]);
    expect(calls.every(([d], i) => d === Math.min((i + 1) * 5, total))).toBe(true);
    const controller = new AbortController();
    await expectRejectsWithoutLeak(
      () => deletionInsertion(model, x, a, { curveSteps: 6, batchSize: 4, signal: controller.signal, onProgress: (d) => d >= 8 && controller.abort() }),
      /aborted/,
    );
    [x, a, ...Object.values(reference), ...Object.values(chunked)].forEach((t) => t.dispose());
  });

  it('rejects bad arguments with errors naming them, without leaking', async () => {
    const x = tf.zeros([2, 4, 4, 3]);
    const a = tf.ones([2, 4, 4, 3]);
    const model = (v: tf.Tensor) => tf.reshape(tf.sum(v, [1, 2, 3]), [-1, 1]);
    await expectRejectsWithoutLeak(() => deletionInsertion(model, x, a, { curveSteps: 0 }), /options\.curveSteps: expected an integer >= 1, got 0/);
    await expectRejectsWithoutLeak(() => deletionInsertion(model, x, a, { curveSteps: 2.5 }), /options\.curveSteps/);
    const wrong = tf.ones([2, 4, 3, 3]);
    await expectRejectsWithoutLeak(() => deletionInsertion(model, x, wrong), /attribution: expected one of \[2, 4, 4\], \[2, 4, 4, 1\], \[2, 4, 4, 3\] for x of shape \[2, 4, 4, 3\], got \[2, 4, 3, 3\]/);
    const otherBatch = tf.ones([1, 4, 4, 3]);
    await expectRejectsWithoutLeak(() => deletionInsertion(model, x, otherBatch), /attribution: expected one of/);
    await expectRejectsWithoutLeak(() => deletionInsertion(model, x, 'map' as never), /attribution: expected a tf\.Tensor/);
    const nan = tf.fill([2, 4, 4, 3], NaN);
    await expectRejectsWithoutLeak(() => deletionInsertion(model, x, nan), /attribution: contains NaN/);
    await expectRejectsWithoutLeak(() => deletionInsertion(model, nan, a), /x: contains NaN/);
    await expectRejectsWithoutLeak(() => deletionInsertion(model, x, a, { mode: 'both-ways' as never }), /options\.mode: expected one of 'both', 'deletion', 'insertion'/);
    await expectRejectsWithoutLeak(() => deletionInsertion(model, x, a, { score: 'logit' as never }), /options\.score/);
    await expectRejectsWithoutLeak(() => deletionInsertion(model, x, a, { blur: { size: 4 } }), /options\.blur\.size: expected an odd positive integer/);
    await expectRejectsWithoutLeak(() => deletionInsertion(model, x, a, { blur: { sigma: 0 } }), /options\.blur\.sigma/);
    await expectRejectsWithoutLeak(() => deletionInsertion(model, x, a, { insertionStart: 'noise' as never }), /options\.insertionStart: expected 'blur', a number or a tf\.Tensor/);
    const badBaseline = tf.zeros([3, 3]);
    await expectRejectsWithoutLeak(() => deletionInsertion(model, x, a, { baseline: badBaseline }), /options\.baseline/);
    const vectors = tf.zeros([2, 5]);
    const vectorMap = tf.zeros([2, 5]);
    await expectRejectsWithoutLeak(() => deletionInsertion(model, vectors, vectorMap, { insertionStart: 'blur' }), /options\.insertionStart: 'blur' needs images/);
    const volume = tf.zeros([1, 2, 2, 2, 2]);
    await expectRejectsWithoutLeak(() => deletionInsertion(model, volume, volume), /x: expected vectors \[N, D\] or images/);
    const classes = (v: tf.Tensor) => tf.reshape(v, [v.shape[0], -1]);
    await expectRejectsWithoutLeak(() => deletionInsertion(classes, x, a), /options\.target: is required/);
    [x, a, wrong, otherBatch, nan, badBaseline, vectors, vectorMap, volume].forEach((t) => t.dispose());
  });
});
