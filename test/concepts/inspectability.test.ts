import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { inspectability } from '../../src/index';
import { expectNoLeak, expectRejectsWithoutLeak, seededValues } from '../helpers/index';

/** Activations in [0, 1) for [N, H, W, K] and overlapping binary masks [N, H, W, C] correlated with them. */
function fixture(n = 6, h = 5, w = 4, k = 5, c = 4) {
  const act = Array.from(seededValues(n * h * w * k, 1), (v) => (v + 1) / 2);
  const noise = seededValues(n * h * w * c, 2);
  const masks = Array.from({ length: n * h * w * c }, (_, i) => {
    const pixel = Math.floor(i / c);
    const concept = i % c;
    return act[pixel * k + ((concept * 2) % k)] + 0.4 * noise[i] > 0.6 ? 1 : 0;
  });
  return { act, masks, shape: [n, h, w], k, c };
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  return lo + 1 < sorted.length ? sorted[lo] + (pos - lo) * (sorted[lo + 1] - sorted[lo]) : sorted[lo];
}

/** Brute-force IoU of every channel with every concept, best channel per concept, AUiC. */
function reference(act: number[], masks: number[], k: number, c: number, thresholds: number[]) {
  const pixels = act.length / k;
  const matches = Array.from({ length: c }, (_, concept) => {
    let best = { channel: -1, iou: 0 };
    let present = 0;
    for (let p = 0; p < pixels; p++) present += masks[p * c + concept];
    for (let ch = 0; ch < k && present > 0; ch++) {
      let inter = 0;
      let union = 0;
      for (let p = 0; p < pixels; p++) {
        const on = act[p * k + ch] > thresholds[ch];
        const m = masks[p * c + concept] > 0.5;
        inter += on && m ? 1 : 0;
        union += on || m ? 1 : 0;
      }
      if (best.channel < 0 || inter / union > best.iou) best = { channel: ch, iou: inter / union };
    }
    return { ...best, pixels: present };
  });
  const found = matches.filter((m) => m.pixels > 0);
  return { matches, auic: found.reduce((s, m) => s + m.iou, 0) / found.length };
}

describe('inspectability', () => {
  it('matches every concept to its best channel by IoU over the data set, AUiC = mean best IoU', async () => {
    const { act, masks, shape, k, c } = fixture();
    const a = tf.tensor(act, [...shape, k]);
    const m = tf.tensor(masks, [...shape, c]);
    const result = await expectNoLeak(() => inspectability(a, m, { conceptNames: ['w', 'x', 'y', 'z'] }));
    const expected = reference(act, masks, k, c, new Array(k).fill(0.5));
    expect(result.auic).toBeCloseTo(expected.auic, 6);
    result.matches.forEach((match, i) => {
      expect(match).toMatchObject({ concept: i, name: 'wxyz'[i], channel: expected.matches[i].channel, pixels: expected.matches[i].pixels });
      expect(match.iou).toBeCloseTo(expected.matches[i].iou, 6);
    });
    expect(result.thresholds).toEqual(new Array(k).fill(0.5));
    tf.dispose([a, m]);
  });

  it('uses per-channel quantile thresholds like numpy.quantile', async () => {
    const { act, masks, shape, k, c } = fixture();
    const a = tf.tensor(act, [...shape, k]);
    const m = tf.tensor(masks, [...shape, c]);
    for (const q of [0.9, 0.5]) {
      const thresholds = Array.from({ length: k }, (_, ch) => quantile(act.filter((_, i) => i % k === ch), q));
      const result = await inspectability(a, m, { threshold: { quantile: q }, chunkPixels: 41 });
      result.thresholds.forEach((t, ch) => expect(t).toBeCloseTo(thresholds[ch], 5));
      expect(result.auic).toBeCloseTo(reference(act, masks, k, c, thresholds).auic, 6);
    }
    tf.dispose([a, m]);
  });

  it('gives the same result in chunks, from lists of batches and in one piece', async () => {
    const { act, masks, shape, k, c } = fixture();
    const a = tf.tensor(act, [...shape, k]);
    const m = tf.tensor(masks, [...shape, c]);
    const whole = await inspectability(a, m, { threshold: { quantile: 0.8 } });
    const chunked = await inspectability(a, m, { threshold: { quantile: 0.8 }, chunkPixels: 20 });
    const parts = [tf.split(a, [2, 4]), tf.split(m, [2, 4])];
    const listed = await expectNoLeak(() => inspectability(parts[0], parts[1], { threshold: { quantile: 0.8 }, chunkPixels: 50 }));
    expect(chunked).toEqual(whole);
    expect(listed).toEqual(whole);
    tf.dispose([a, m, ...parts.flat()]);
  });

  it('scores channels equal to the concepts 1 everywhere and traces a curve whose area is the AUiC', async () => {
    const { masks, shape, c } = fixture();
    const m = tf.tensor(masks, [...shape, c]);
    const perfect = await inspectability(m, m);
    expect(perfect.auic).toBe(1);
    expect(perfect.matches.map((x) => x.channel)).toEqual([0, 1, 2, 3]);
    expect(perfect.curve.fraction.every((f) => f === 1)).toBe(true);

    const { act, k } = fixture();
    const a = tf.tensor(act, [...shape, k]);
    const { auic, curve } = await inspectability(a, m, { threshold: 0.3 });
    expect(curve.xi[0]).toBe(0);
    expect(curve.xi[100]).toBe(1);
    expect(curve.fraction[0]).toBe(1);
    curve.fraction.slice(1).forEach((f, i) => expect(f).toBeLessThanOrEqual(curve.fraction[i]));
    const area = curve.fraction.slice(1).reduce((s, f, i) => s + ((f + curve.fraction[i]) / 2) * 0.01, 0);
    expect(Math.abs(area - auic)).toBeLessThan(0.01);
    tf.dispose([a, m]);
  });

  it('leaves absent concepts out and resizes low-resolution activations to the masks', async () => {
    const masks = tf.tensor([1, 0, 0, 0, 1, 0, 0, 0], [1, 2, 2, 2]);
    const activations = tf.tensor([0.9, 0.1, 0.8, 0.2], [1, 2, 2, 1]);
    const result = await inspectability(activations, masks);
    expect(result.matches[1]).toEqual({ concept: 1, channel: -1, iou: 0, pixels: 0 });
    expect(result.auic).toBe(1);

    const small = tf.tensor([0.2, 0.9, 0.1, 0.7], [1, 2, 2, 1]);
    const big = tf.tensor(Array.from(seededValues(16, 3), (v) => (v > 0 ? 1 : 0)), [1, 4, 4, 1]);
    const resized = tf.image.resizeBilinear(small as tf.Tensor4D, [4, 4]);
    expect(await inspectability(small, big)).toEqual(await inspectability(resized, big));
    tf.dispose([masks, activations, small, big, resized]);
  });

  it('rejects mismatched inputs and bad options with clear errors, leaking nothing', async () => {
    const a = tf.ones([2, 3, 3, 4]);
    const m = tf.ones([2, 3, 3, 2]);
    const [otherN, flat, rank3, empty, a5, m1] = [tf.ones([3, 3, 3, 2]), tf.ones([2, 4]), tf.ones([2, 3, 2]), tf.zeros([2, 3, 3, 2]), tf.ones([1, 3, 3, 5]), tf.ones([1, 3, 3, 2])];
    await expectRejectsWithoutLeak(() => inspectability(a, otherN), /conceptMasks: expected masks for the same examples/);
    await expectRejectsWithoutLeak(() => inspectability(flat, rank3), /conceptMasks: expected masks for the same examples/);
    await expectRejectsWithoutLeak(() => inspectability([a], [m, m]), /expected as many mask batches as activation batches \(1\), got 2/);
    await expectRejectsWithoutLeak(() => inspectability(a, m, { threshold: { quantile: 1 } }), /options.threshold.quantile: expected a number in \(0, 1\)/);
    await expectRejectsWithoutLeak(() => inspectability(a, m, { threshold: 'high' as never }), /options.threshold: expected a number or \{ quantile: q \}/);
    await expectRejectsWithoutLeak(() => inspectability(a, m, { conceptNames: ['one'] }), /options.conceptNames: expected 2 names/);
    await expectRejectsWithoutLeak(() => inspectability(a, empty), /no concept occurs anywhere/);
    await expectRejectsWithoutLeak(() => inspectability([a, a5], [m, m1]), /same number of channels and concepts/);
    tf.dispose([otherN, flat, rank3, empty, a5, m1]);
    tf.dispose([a, m]);
  });
});
