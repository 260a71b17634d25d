import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { totalVariation } from '../../src/index';
import { expectClose, expectNoLeak, seededValues } from '../helpers';

/** Single-level ATV in plain JS: h = Σ_c|A|, scaled by its 99th percentile (top-k), clipped. */
function referenceAtv(values: Float32Array, height: number, width: number, channels: number): number {
  const h = new Float64Array(height * width);
  for (let p = 0; p < height * width; p++) for (let c = 0; c < channels; c++) h[p] += Math.abs(values[p * channels + c]);
  const sorted = Array.from(h).sort((a, b) => b - a);
  const threshold = sorted[Math.max(1, Math.ceil(0.01 * h.length)) - 1] || 1;
  const s = Array.from(h, (v) => Math.min(1, v / threshold));
  let tv = 0;
  for (let i = 0; i < height; i++) {
    for (let j = 0; j < width; j++) {
      if (i + 1 < height) tv += Math.abs(s[(i + 1) * width + j] - s[i * width + j]);
      if (j + 1 < width) tv += Math.abs(s[i * width + j + 1] - s[i * width + j]);
    }
  }
  return tv / (height * width);
}

describe('totalVariation', () => {
  it('matches an independent computation on a single pyramid level', async () => {
    const values = seededValues(2 * 12 * 10 * 3, 4);
    const attribution = tf.tensor4d(values, [2, 12, 10, 3]);
    const atv = await expectNoLeak(() => totalVariation(attribution));
    const perExample = 12 * 10 * 3;
    await expectClose(atv, [0, 1].map((e) => referenceAtv(values.subarray(e * perExample, (e + 1) * perExample), 12, 10, 3)), 1e-5);
    attribution.dispose();
    atv.dispose();
  });

  it('is 0 for a constant map, high for a checkerboard, and averages a pyramid on large maps', async () => {
    const constant = tf.ones([1, 64, 64]);
    const checker = tf.tidy(() => tf.tensor3d(Float32Array.from({ length: 64 * 64 }, (_, p) => (Math.floor(p / 64) + (p % 64)) % 2), [1, 64, 64]));
    const [a, b] = [totalVariation(constant), totalVariation(checker)];
    expect((await a.data())[0]).toBe(0);
    const single = totalVariation(checker, { minSize: 64 });
    // The checkerboard scores ~2 on level 0; blurred coarser levels are smoother, so the pyramid mean is lower.
    expect((await single.data())[0]).toBeGreaterThan(1.9);
    expect((await b.data())[0]).toBeLessThan((await single.data())[0]);
    [constant, checker, a, b, single].forEach((t) => t.dispose());
  });

  it('rejects non-image attributions and bad options', () => {
    const vector = tf.zeros([2, 5]);
    expect(() => totalVariation(vector)).toThrow(/attribution: expected a batched tensor of rank >= 3/);
    const img = tf.zeros([1, 4, 4]);
    expect(() => totalVariation(img, { downscale: 1 })).toThrow(/options\.downscale: expected a number in \(1/);
    [vector, img].forEach((t) => t.dispose());
  });
});
