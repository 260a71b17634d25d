import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { overlay } from '../../src/index';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak, seededValues } from '../helpers';

/** Values in [0, 1] for images. */
const unit = (count: number, seed: number) => Array.from(seededValues(count, seed), (v) => (v + 1) / 2);

describe('overlay', () => {
  it('blends (1 − α)·image + α·heatmap per pixel, like a plain-JS loop', async () => {
    const image = unit(2 * 3 * 4 * 3, 3);
    const heat = unit(2 * 3 * 4 * 3, 4);
    const x = tf.tensor(image, [2, 3, 4, 3]);
    const h = tf.tensor(heat, [2, 3, 4, 3]);
    const out = await expectNoLeak(() => overlay(x, h, { alpha: 0.3 }));
    expect(out.shape).toEqual([2, 3, 4, 3]);
    await expectClose(out, image.map((v, i) => 0.7 * v + 0.3 * heat[i]!), 1e-6);
    const half = overlay(x, h);
    await expectClose(half, image.map((v, i) => 0.5 * v + 0.5 * heat[i]!), 1e-6);
    [x, h, out, half].forEach((t) => t.dispose());
  });

  it('repeats grey images over RGB, greys RGB images on request and broadcasts a batch of 1', async () => {
    const grey = unit(3 * 2 * 2, 5);
    const heat = unit(2 * 2 * 3, 6);
    const x = tf.tensor(grey, [3, 2, 2, 1]);
    const h = tf.tensor(heat, [1, 2, 2, 3]);
    const out = overlay(x, h, { alpha: 0.25 });
    expect(out.shape).toEqual([3, 2, 2, 3]);
    const expected = [];
    for (let e = 0; e < 3; e++) for (let p = 0; p < 4; p++) for (let c = 0; c < 3; c++) expected.push(0.75 * grey[e * 4 + p]! + 0.25 * heat[p * 3 + c]!);
    await expectClose(out, expected, 1e-6);

    const rgb = unit(2 * 2 * 3, 7);
    const colour = tf.tensor(rgb, [1, 2, 2, 3]);
    const greyed = overlay(colour, h, { alpha: 0.5, grayscale: true });
    const mean = (p: number) => (rgb[3 * p]! + rgb[3 * p + 1]! + rgb[3 * p + 2]!) / 3;
    await expectClose(greyed, heat.map((v, i) => 0.5 * mean(Math.floor(i / 3)) + 0.5 * v), 1e-6);
    const imageOnly = overlay(colour, h, { alpha: 0 });
    await expectClose(imageOnly, rgb, 1e-7);
    [x, h, out, colour, greyed, imageOnly].forEach((t) => t.dispose());
  });

  it('clips the result to [0, 1]', async () => {
    const x = tf.tensor([2, -1, 0.5], [1, 1, 1, 3]);
    const h = tf.tensor([1, 0, 0.5], [1, 1, 1, 3]);
    const out = overlay(x, h);
    expect(Array.from(await out.data())).toEqual([1, 0, 0.5]);
    [x, h, out].forEach((t) => t.dispose());
  });

  it('rejects mismatched shapes and bad options clearly, without leaking', async () => {
    const image = tf.zeros([2, 4, 4, 3]);
    const heat = tf.zeros([2, 4, 4, 3]);
    const small = tf.zeros([2, 2, 2, 3]);
    const batch3 = tf.zeros([3, 4, 4, 3]);
    const twoChannels = tf.zeros([2, 4, 4, 2]);
    const cases: [() => unknown, RegExp][] = [
      [() => overlay(twoChannels, heat), /image: expected a non-empty \[N, H, W, 1 or 3\] tensor, got shape \[2, 4, 4, 2\]/],
      [() => overlay(image, image.shape as never), /heatmapRgb: expected a live tf.Tensor, got \[2,4,4,3\]/],
      [() => overlay(image, small), /heatmapRgb: expected the image's height and width 4×4, got 2×2; resize/],
      [() => overlay(image, batch3), /heatmapRgb: expected a batch of 2 \(like the image\) or 1, got 3/],
      [() => overlay(image, heat, { alpha: 1.5 }), /options\.alpha: expected a number in \[0, 1\], got 1.5/],
      [() => overlay(image, heat, { grayscale: 'yes' as never }), /options\.grayscale: expected a boolean/],
    ];
    for (const [call, pattern] of cases) await expectRejectsWithoutLeak(async () => call(), pattern);
    [image, heat, small, batch3, twoChannels].forEach((t) => t.dispose());
  });
});
