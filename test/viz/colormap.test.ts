import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { applyColormap, COLORMAP_NAMES, COLORMAPS, type Colormap } from '../../src/index';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak } from '../helpers';

/** Plain-JS piecewise-linear lookup: the reference for applyColormap. */
function lookup(colors: readonly number[], t: number): number[] {
  const anchors = colors.length / 3;
  const position = Math.min(1, Math.max(0, t)) * (anchors - 1);
  const i = Math.min(Math.floor(position), anchors - 2);
  const f = position - i;
  return [0, 1, 2].map((c) => colors[3 * i + c]! * (1 - f) + colors[3 * (i + 1) + c]! * f);
}

const srgbToLinear = (v: number) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);

describe('colour maps', () => {
  it('are well-formed tables, viridis and inferno with matplotlib’s 256 colours', () => {
    expect(COLORMAP_NAMES).toEqual(['viridis', 'inferno', 'gray', 'bwr', 'coolwarm', 'RdWhGn']);
    for (const name of COLORMAP_NAMES) {
      const { colors } = COLORMAPS[name];
      expect(colors.length % 3).toBe(0);
      expect(colors.every((c) => c >= 0 && c <= 1)).toBe(true);
    }
    expect(COLORMAPS.viridis.colors.length).toBe(256 * 3);
    expect(COLORMAPS.inferno.colors.length).toBe(256 * 3);
    expect(COLORMAPS.coolwarm.colors.length).toBe(33 * 3);
    // Both are designed with monotonically increasing lightness: relative luminance must increase.
    for (const name of ['viridis', 'inferno'] as const) {
      const { colors } = COLORMAPS[name];
      const luminance = Array.from({ length: 256 }, (_, i) =>
        0.2126 * srgbToLinear(colors[3 * i]!) + 0.7152 * srgbToLinear(colors[3 * i + 1]!) + 0.0722 * srgbToLinear(colors[3 * i + 2]!),
      );
      expect(luminance.every((l, i) => i === 0 || l > luminance[i - 1]!), name).toBe(true);
    }
  });

  it('hit the published colours at the ends and in the middle', async () => {
    const t = tf.tensor1d([0, 0.5, 1]);
    const viridis = await expectNoLeak(() => applyColormap(t, 'viridis'));
    const inferno = applyColormap(t, 'inferno');
    expect(viridis.shape).toEqual([3, 3]);
    const v = await viridis.data();
    const i = await inferno.data();
    // matplotlib: viridis(0) = #440154, viridis(1) = #fde725, viridis(0.5) = #21918c (table entry 128).
    const published = [0.267004, 0.004874, 0.329415, 0.127568, 0.566949, 0.550556, 0.993248, 0.906157, 0.143936];
    published.forEach((p, k) => expect(v[k]).toBeCloseTo(p, k >= 3 && k < 6 ? 2 : 5));
    const infernoEnds = [0.001462, 0.000466, 0.013866, 0.988362, 0.998364, 0.644924];
    [0, 1, 2, 6, 7, 8].forEach((k, j) => expect(i[k]).toBeCloseTo(infernoEnds[j]!, 5));
    [t, viridis, inferno].forEach((x) => x.dispose());
  });

  it('interpolate linearly between anchors, like a plain-JS lookup, for every map', async () => {
    const ts = Array.from({ length: 97 }, (_, k) => (k * 0.0137 + 0.003) % 1).concat([0, 1, 0.5]);
    const values = tf.tensor(ts, [10, 10]);
    for (const name of COLORMAP_NAMES) {
      const rgb = applyColormap(values, name);
      expect(rgb.shape).toEqual([10, 10, 3]);
      await expectClose(rgb, ts.flatMap((x) => lookup(COLORMAPS[name].colors, x)), 1e-6);
      rgb.dispose();
    }
    values.dispose();
  });

  it('give exact white at the centre of bwr and mirrored colours around it', async () => {
    const t = tf.tensor1d([0.5, 0.25, 0.75, 0, 1, 0.1, 0.9]);
    const rgb = applyColormap(t, 'bwr');
    const v = Array.from(await rgb.data());
    expect(v.slice(0, 15)).toEqual([1, 1, 1, 0.5, 0.5, 1, 1, 0.5, 0.5, 0, 0, 1, 1, 0, 0]);
    const [low, high] = [v.slice(15, 18), v.slice(18, 21)];
    expect(high.reverse().map((x, c) => Math.abs(x - low[c]!))).toEqual([0, 0, 0].map(() => expect.closeTo(0, 6)));
    t.dispose();
    rgb.dispose();
  });

  it('clip values outside [0, 1] and accept int32 and custom maps', async () => {
    const values = tf.tensor1d([-3, 2, 0, 1], 'int32');
    const custom: Colormap = { colors: [0, 0.5, 1, 1, 0.5, 0] };
    const rgb = applyColormap(values, custom);
    expect(Array.from(await rgb.data())).toEqual([0, 0.5, 1, 1, 0.5, 0, 0, 0.5, 1, 1, 0.5, 0]);
    const gray = applyColormap(tf.tensor1d([0.25]), 'gray');
    await expectClose(gray, [0.25, 0.25, 0.25], 1e-7);
    [values, rgb, gray].forEach((x) => x.dispose());
  });

  it('reject unknown names (listing the valid ones), bad tables and non-finite values without leaking', async () => {
    const values = tf.tensor1d([0, 0.5]);
    await expectRejectsWithoutLeak(
      async () => applyColormap(values, 'jet' as never),
      /options\.colormap: unknown colour map "jet"; expected one of 'viridis', 'inferno', 'gray', 'bwr', 'coolwarm', 'RdWhGn'/,
    );
    await expectRejectsWithoutLeak(async () => applyColormap(values, { colors: [0, 0, 0] }), /at least two RGB triples/);
    await expectRejectsWithoutLeak(async () => applyColormap(values, { colors: [0, 0, 0, 2, 0, 0] }), /in \[0, 1\]/);
    const bad = tf.tensor1d([0, NaN]);
    await expectRejectsWithoutLeak(async () => applyColormap(bad, 'gray'), /values: contains NaN/);
    const inf = tf.tensor1d([Infinity, 0]);
    await expectRejectsWithoutLeak(async () => applyColormap(inf, 'gray'), /values: contains infinite/);
    await expectRejectsWithoutLeak(async () => applyColormap([0.5] as never), /values: expected a live tf.Tensor/);
    [values, bad, inf].forEach((x) => x.dispose());
  });
});
