import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { EdgeFilterStem, FILTER_KERNELS, type FilterName, stemInputRelevance, stemScoresFromRelevance } from '../../src/index';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak, seededTensor } from '../helpers';

const [N, H, W, C] = [2, 5, 6, 3];
const FILTERS: FilterName[] = ['identity', 'sobel-x', 'laplacian', 'roberts-y'];
const F = FILTERS.length;

const builtStem = (filters: FilterName[] = FILTERS): EdgeFilterStem => {
  const stem = new EdgeFilterStem({ filters });
  stem.build([null, H, W, C]);
  return stem;
};

/**
 * Plain-JS WSquare through the stem, from the definition: output (i, j, c, f) reads input
 * (i + a − top, j + b − left, c) with weight k_f[a][b]; its relevance goes to those inputs in
 * proportion to k_f[a][b]² over the in-image taps.
 */
function referenceInputRelevance(r: Float32Array): Float32Array {
  const out = new Float32Array(N * H * W * C);
  for (let n = 0; n < N; n++)
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++)
        for (let c = 0; c < C; c++)
          FILTERS.forEach((name, f) => {
            const k = FILTER_KERNELS[name];
            const top = Math.floor((k.length - 1) / 2);
            const left = Math.floor((k[0].length - 1) / 2);
            const taps: [number, number, number][] = [];
            k.forEach((row, a) => row.forEach((v, b) => {
              const [y, x] = [i + a - top, j + b - left];
              if (y >= 0 && y < H && x >= 0 && x < W && v !== 0) taps.push([y, x, v * v]);
            }));
            const total = taps.reduce((s, t) => s + t[2], 0);
            const rel = r[((n * H + i) * W + j) * C * F + c * F + f];
            for (const [y, x, w2] of taps) out[((n * H + y) * W + x) * C + c] += (rel * w2) / total;
          });
  return out;
}

/** Plain-JS sums of the relevance per (example, colour) and per (example, filter). */
function referenceSums(r: Float32Array): { colour: Float64Array; filter: Float64Array; total: Float64Array } {
  const colour = new Float64Array(N * C);
  const filter = new Float64Array(N * F);
  const total = new Float64Array(N);
  r.forEach((v, idx) => {
    const ch = idx % (C * F);
    const n = Math.floor(idx / (H * W * C * F));
    colour[n * C + Math.floor(ch / F)] += v;
    filter[n * F + (ch % F)] += v;
    total[n] += v;
  });
  return { colour, filter, total };
}

const perExampleSums = async (t: tf.Tensor): Promise<number[]> => {
  const v = Array.from(await t.data());
  const size = v.length / N;
  return Array.from({ length: N }, (_, n) => v.slice(n * size, (n + 1) * size).reduce((a, b) => a + b, 0));
};

describe('stemScoresFromRelevance', () => {
  it('sums relevance into colour, filter and WSquare pixel scores that match a plain-JS computation', async () => {
    const stem = builtStem();
    const relevance = seededTensor([N, H, W, C * F], 21);
    const r = (await relevance.data()) as Float32Array;
    const scores = await expectNoLeak(() => stemScoresFromRelevance(relevance, stem));
    const expected = referenceSums(r);
    expect(scores.colour.shape).toEqual([N, C]);
    expect(scores.filter.shape).toEqual([N, F]);
    expect(scores.pixel.shape).toEqual([N, H, W]);
    await expectClose(scores.colour, expected.colour, 1e-5);
    await expectClose(scores.filter, expected.filter, 1e-5);
    const input = referenceInputRelevance(r);
    const pixel = new Float32Array(N * H * W).map((_, p) => input[p * C] + input[p * C + 1] + input[p * C + 2]);
    await expectClose(scores.pixel, pixel, 1e-5);
    tf.dispose([relevance, scores.colour, scores.filter, scores.pixel]);
  });

  it('conserves relevance: Σ colour = Σ filter = Σ pixel = Σ R per example', async () => {
    // Same size bank as FILTERS, without roberts-y (see the next test).
    const stem = builtStem(['identity', 'sobel-x', 'laplacian', 'roberts-x']);
    const relevance = seededTensor([N, H, W, C * F], 22);
    const { total } = referenceSums((await relevance.data()) as Float32Array);
    const scores = stemScoresFromRelevance(relevance, stem);
    for (const part of [scores.colour, scores.filter, scores.pixel]) {
      (await perExampleSums(part)).forEach((s, n) => expect(s).toBeCloseTo(total[n], 3));
    }
    tf.dispose([relevance, scores.colour, scores.filter, scores.pixel]);
  });

  it('drops only the relevance of outputs that read no image pixel (roberts-y at the bottom-right corner)', async () => {
    const stem = builtStem();
    const relevance = seededTensor([N, H, W, C * F], 25);
    const r = (await relevance.data()) as Float32Array;
    const { total } = referenceSums(r);
    const { pixel } = stemScoresFromRelevance(relevance, stem);
    const robertsY = FILTERS.indexOf('roberts-y');
    const sums = await perExampleSums(pixel);
    for (let n = 0; n < N; n++) {
      const corner = ((n * H + H - 1) * W + W - 1) * C * F;
      const dropped = [0, 1, 2].reduce((acc, c) => acc + r[corner + c * F + robertsY], 0);
      expect(sums[n]).toBeCloseTo(total[n] - dropped, 3);
    }
    tf.dispose([relevance, pixel]);
  });

  it('normalises every score by the total relevance, giving 0 where the total is 0', async () => {
    const stem = builtStem(['identity', 'sobel-x', 'laplacian', 'roberts-x']);
    const relevance = tf.concat([seededTensor([1, H, W, C * F], 23), tf.zeros([1, H, W, C * F])]);
    const raw = stemScoresFromRelevance(relevance, stem);
    const normalised = await expectNoLeak(() => stemScoresFromRelevance(relevance, stem, { normalize: true }));
    const total = (await perExampleSums(raw.colour))[0];
    for (const key of ['colour', 'filter', 'pixel'] as const) {
      const values = await normalised[key].data();
      const rawValues = await raw[key].data();
      const half = values.length / 2;
      await expectClose(values.slice(0, half), rawValues.slice(0, half).map((v) => v / total), 1e-5);
      expect(Array.from(values.slice(half))).toEqual(new Array(half).fill(0));
      expect((await perExampleSums(normalised[key]))[0]).toBeCloseTo(1, 4);
    }
    tf.dispose([relevance, ...Object.values(raw), ...Object.values(normalised)]);
  });

  it('rejects relevance of the wrong shape, an unbuilt stem and a non-stem, naming the argument', async () => {
    const stem = builtStem();
    const wrong = tf.zeros([N, H, W, C * F + 1]);
    await expectRejectsWithoutLeak(
      async () => stemScoresFromRelevance(wrong, stem),
      /stemScoresFromRelevance: relevance must have shape \[N, H, W, 12\] \(the stem's 3 colours × 4 filters\), got \[2, 5, 6, 13\]/,
    );
    await expectRejectsWithoutLeak(async () => stemScoresFromRelevance(wrong, new EdgeFilterStem()), /only after the layer is built/);
    await expectRejectsWithoutLeak(async () => stemScoresFromRelevance(wrong, {} as EdgeFilterStem), /stem must be an EdgeFilterStem layer, got Object/);
    await expectRejectsWithoutLeak(async () => stemScoresFromRelevance([1] as never, stem), /relevance must be a tf.Tensor/);
    await expectRejectsWithoutLeak(async () => stemScoresFromRelevance(wrong, stem, { normalize: 1 as never }), /options.normalize must be a boolean/);
    wrong.dispose();
  });
});

describe('stemInputRelevance', () => {
  it('pushes relevance through the stem with the WSquare rule, per colour', async () => {
    const stem = builtStem();
    const relevance = seededTensor([N, H, W, C * F], 24);
    const pushed = await expectNoLeak(() => stemInputRelevance(relevance, stem));
    expect(pushed.shape).toEqual([N, H, W, C]);
    const r = Float32Array.from(await relevance.data());
    await expectClose(pushed, referenceInputRelevance(r), 1e-5);
    // Relevance stays in its colour (up to the dropped roberts-y corner, zeroed here).
    const robertsY = FILTERS.indexOf('roberts-y');
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) r[(((n * H + H - 1) * W + W - 1) * C + c) * F + robertsY] = 0;
    const { colour } = referenceSums(r);
    const perColour = tf.sum(pushed, [1, 2]);
    await expectClose(perColour, colour, 1e-4);
    tf.dispose([relevance, pushed, perColour]);
  });
});
