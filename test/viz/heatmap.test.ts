import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { COLORMAPS, heatmap, type HeatmapOptions, type HeatmapSign } from '../../src/index';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak, seededTensor } from '../helpers';

/** numpy.percentile(values, p) with the default linear interpolation. */
function numpyPercentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (rank - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Captum's _cumulative_sum_threshold(values, p). */
function captumThreshold(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const total = sorted.reduce((a, b) => a + b, 0);
  let running = 0;
  for (const v of sorted) {
    running += v;
    if (running >= (total * p) / 100) return v;
  }
  return sorted[sorted.length - 1]!;
}

function lookup(colors: readonly number[], t: number): number[] {
  const anchors = colors.length / 3;
  const position = t * (anchors - 1);
  const i = Math.min(Math.floor(position), anchors - 2);
  const f = position - i;
  return [0, 1, 2].map((c) => colors[3 * i + c]! * (1 - f) + colors[3 * (i + 1) + c]! * f);
}

/** Plain-JS heatmap of a [N, H, W, C] attribution, following the documented steps. */
function referenceHeatmap(values: Float32Array, shape: number[], options: Required<Omit<HeatmapOptions, 'sign'>> & { sign: HeatmapSign }): number[] {
  const [n, h, w, c] = shape.length === 4 ? shape : [...shape, 1];
  const out: number[] = [];
  for (let e = 0; e < n!; e++) {
    const reduced: number[] = [];
    for (let p = 0; p < h! * w!; p++) {
      const channel = Array.from(values.slice((e * h! * w! + p) * c!, (e * h! * w! + p + 1) * c!));
      reduced.push(
        options.reduce === 'sum'
          ? channel.reduce((a, b) => a + b, 0)
          : options.reduce === 'abs-sum'
            ? channel.reduce((a, b) => a + Math.abs(b), 0)
            : Math.max(...channel.map(Math.abs)),
      );
    }
    const shown = reduced.map((r) =>
      options.sign === 'positive' ? Math.max(r, 0) : options.sign === 'negative' ? Math.max(-r, 0) : Math.abs(r),
    );
    let scale =
      'value' in options.clip
        ? options.clip.value
        : options.clip.cumulative
          ? captumThreshold(shown, options.clip.percentile)
          : numpyPercentile(shown, options.clip.percentile);
    if (!(scale > 0)) scale = 1;
    const colors = typeof options.colormap === 'string' ? COLORMAPS[options.colormap].colors : options.colormap.colors;
    reduced.forEach((r, p) => {
      const t =
        options.sign === 'all' ? (Math.min(1, Math.max(-1, r / scale)) + 1) / 2 : Math.min(1, shown[p]! / scale);
      out.push(...lookup(colors, t));
    });
  }
  return out;
}

describe('heatmap', () => {
  const attribution = seededTensor([2, 6, 5, 3], 21, 2);
  afterAll(() => attribution.dispose());

  const cases: { options: HeatmapOptions; reference: Parameters<typeof referenceHeatmap>[2] }[] = [
    {
      options: {},
      reference: { sign: 'all', colormap: 'bwr', reduce: 'sum', clip: { percentile: 99 } },
    },
    {
      options: { sign: 'absolute_value', reduce: 'max-abs', colormap: 'inferno', clip: { percentile: 90 } },
      reference: { sign: 'absolute_value', reduce: 'max-abs', colormap: 'inferno', clip: { percentile: 90 } },
    },
    {
      options: { sign: 'positive', clip: { percentile: 98, cumulative: true } },
      reference: { sign: 'positive', reduce: 'sum', colormap: 'viridis', clip: { percentile: 98, cumulative: true } },
    },
    {
      options: { sign: 'negative', colormap: 'gray', clip: { percentile: 50 } },
      reference: { sign: 'negative', reduce: 'sum', colormap: 'gray', clip: { percentile: 50 } },
    },
    {
      options: { sign: 'all', reduce: 'abs-sum', colormap: 'coolwarm', clip: { value: 1.5 } },
      reference: { sign: 'all', reduce: 'abs-sum', colormap: 'coolwarm', clip: { value: 1.5 } },
    },
    {
      options: { sign: 'all', colormap: 'RdWhGn', clip: { percentile: 100, cumulative: true } },
      reference: { sign: 'all', reduce: 'sum', colormap: 'RdWhGn', clip: { percentile: 100, cumulative: true } },
    },
  ];

  it('matches a plain-JS implementation for every sign, reduction, scale and colour map', async () => {
    const values = (await attribution.data()) as Float32Array;
    for (const { options, reference } of cases) {
      const rgb = await expectNoLeak(() => heatmap(attribution, options));
      expect(rgb.shape).toEqual([2, 6, 5, 3]);
      expect(rgb.dtype).toBe('float32');
      await expectClose(rgb, referenceHeatmap(values, attribution.shape, reference), 1e-5);
      rgb.dispose();
    }
  });

  it('scales by numpy’s percentile and by Captum’s cumulative threshold (known values)', async () => {
    // 1..10 in one example: numpy.percentile(1..10, 99) = 9.91; Captum's 50% threshold is 7, the first
    // sorted value whose running sum reaches 27.5 (1 + ... + 6 = 21, 1 + ... + 7 = 28).
    const ramp = tf.tensor(Array.from({ length: 10 }, (_, i) => i + 1), [1, 2, 5]);
    const byPercentile = heatmap(ramp, { colormap: 'gray', clip: { percentile: 99 } });
    const red = (await byPercentile.data()).filter((_, k) => k % 3 === 0);
    await expectClose(red, [1, 2, 3, 4, 5, 6, 7, 8, 9, 9.91].map((v) => v / 9.91), 1e-6);
    const byMass = heatmap(ramp, { colormap: 'gray', clip: { percentile: 50, cumulative: true } });
    const mass = (await byMass.data()).filter((_, k) => k % 3 === 0);
    expect(captumThreshold([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(7);
    await expectClose(mass, [1, 2, 3, 4, 5, 6, 7, 7, 7, 7].map((v) => v / 7), 1e-6);
    [ramp, byPercentile, byMass].forEach((t) => t.dispose());
  });

  it('scales every example on its own and maps 0 to white, ±v to mirrored colours', async () => {
    // Example 2 is example 1 times 100 and negated: same picture with red and blue swapped.
    const base = [0, 1, -1, 0.5, -0.25, 0];
    const x = tf.tensor([...base, ...base.map((v) => -100 * v)], [2, 1, 6]);
    const rgb = heatmap(x, { clip: { percentile: 100 } });
    const v = await rgb.data();
    expect(Array.from(v.slice(0, 3))).toEqual([1, 1, 1]);
    expect(Array.from(v.slice(3, 9))).toEqual([1, 0, 0, 0, 0, 1]);
    for (let p = 0; p < 6; p++) {
      const first = Array.from(v.slice(3 * p, 3 * p + 3));
      const second = Array.from(v.slice(18 + 3 * p, 18 + 3 * p + 3));
      second.reverse().forEach((s, c) => expect(s).toBeCloseTo(first[c]!, 6));
    }
    [x, rgb].forEach((t) => t.dispose());
  });

  it('chooses the diverging map only for signed input, and keeps all-zero maps finite', async () => {
    const positive = tf.tensor([[[0, 1], [2, 4]]]);
    const auto = heatmap(positive, { clip: { percentile: 100 } });
    const explicit = heatmap(positive, { sign: 'positive', colormap: 'viridis', clip: { percentile: 100 } });
    await expectClose(auto, explicit, 1e-7);
    const zeros = tf.zeros([1, 2, 2, 3]);
    const white = heatmap(zeros, { sign: 'all' });
    expect(Array.from(await white.data())).toEqual(new Array(12).fill(1));
    const dark = heatmap(zeros);
    await expectClose(dark, new Array(4).fill(COLORMAPS.viridis.colors.slice(0, 3)).flat(), 1e-6);
    [positive, auto, explicit, zeros, white, dark].forEach((t) => t.dispose());
  });

  it('rejects bad attributions and options clearly, without leaking', async () => {
    const matrix = tf.zeros([4, 4]);
    const rank5 = tf.zeros([1, 2, 2, 1, 1]);
    const empty = tf.zeros([1, 0, 2]);
    const withNaN = tf.tensor([0, NaN], [1, 1, 2]);
    const withInf = tf.tensor([0, -Infinity], [1, 1, 2]);
    const good = tf.tensor([0, 1], [1, 1, 2]);
    const cases: [() => unknown, RegExp][] = [
      [() => heatmap(matrix), /attribution: expected a batched tensor of rank >= 3.*tf.expandDims/],
      [() => heatmap(rank5), /attribution: expected \[N, H, W\] or \[N, H, W, C\], got shape \[1, 2, 2, 1, 1\]/],
      [() => heatmap(empty), /attribution: is empty/],
      [() => heatmap(withNaN), /attribution: contains NaN/],
      [() => heatmap(withInf), /attribution: contains infinite/],
      [() => heatmap(good, { colormap: 'hot' as never }), /options\.colormap: unknown colour map "hot"; expected one of 'viridis', 'inferno', 'gray', 'bwr', 'coolwarm', 'RdWhGn'/],
      [() => heatmap(good, { sign: 'absolute' as never }), /options\.sign: expected one of 'auto', 'all', 'positive', 'negative', 'absolute_value', got "absolute"/],
      [() => heatmap(good, { reduce: 'mean' as never }), /options\.reduce: expected one of 'sum', 'abs-sum', 'max-abs'/],
      [() => heatmap(good, { clip: { percentile: 0 } }), /options\.clip\.percentile: expected a number in \(0, 100\], got 0/],
      [() => heatmap(good, { clip: { value: -1 } }), /options\.clip\.value: expected a number in \(0, ∞\)/],
      [() => heatmap(good, { clip: 99 as never }), /options\.clip: expected \{ percentile, cumulative\? \} or \{ value \}, got 99/],
    ];
    for (const [call, pattern] of cases) await expectRejectsWithoutLeak(async () => call(), pattern);
    [matrix, rank5, empty, withNaN, withInf, good].forEach((t) => t.dispose());
  });
});
