/**
 * Attribution → RGB heatmap, after Captum's `visualize_image_attr(method = 'heat_map')` (Kokhlikyan et
 * al. 2020): reduce the channels, keep the requested sign, divide each example by a robust scale (a
 * percentile of its magnitudes), clip, and colour.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeValue, GlassboxArgumentError } from '../core/errors';
import { assertBatchedTensor, assertNumberInRange, assertOneOf } from '../core/validate';
import { colorize, type Colormap, type ColormapName, resolveColormap } from './colormap';

/**
 * Which part of the attribution a heatmap shows (Captum's `sign`):
 * - `'all'`: signed values, `r / s` clipped to [−1, 1] and mapped to [0, 1] (0 → 0.5, the centre of a
 *   diverging map); `s` comes from `|r|`.
 * - `'positive'`: `max(r, 0) / s`; `'negative'`: `max(−r, 0) / s`; `'absolute_value'`: `|r| / s`; each
 *   clipped to [0, 1] for a sequential map, `s` taken from the values shown.
 */
export type HeatmapSign = 'all' | 'positive' | 'negative' | 'absolute_value';

/** The accepted {@link HeatmapSign} values. */
export const HEATMAP_SIGNS: readonly HeatmapSign[] = ['all', 'positive', 'negative', 'absolute_value'];

/** How the channel axis of a `[N, H, W, C]` attribution is reduced: `Σ_c a`, `Σ_c |a|` or `max_c |a|`. */
export type ChannelReduction = 'sum' | 'abs-sum' | 'max-abs';

/** The accepted {@link ChannelReduction} values. */
export const CHANNEL_REDUCTIONS: readonly ChannelReduction[] = ['sum', 'abs-sum', 'max-abs'];

/**
 * The scale `s` that maps to the end of the colour map (larger magnitudes are clipped):
 * - `{ percentile: p }`: per example, the p-th percentile of the magnitudes shown (numpy's default
 *   linear interpolation between order statistics); `p = 100` is the maximum, no clipping.
 * - `{ percentile: p, cumulative: true }`: per example, Captum's `outlier_perc = 100 − p`: the smallest
 *   sorted magnitude at which the running sum reaches p% of the total.
 * - `{ value: s }`: a fixed scale, the same for every example (to compare maps on one colour scale).
 *
 * An example whose scale is 0 (an all-zero map) is divided by 1.
 */
export type HeatmapScale =
  | {
      /** The percentile p in (0, 100] of each example's magnitudes that becomes its scale. */
      percentile: number;
      /** Captum's cumulative threshold instead of the plain percentile (default false). */
      cumulative?: boolean;
    }
  | {
      /** A fixed scale, the same for every example. */
      value: number;
    };

/** Options of {@link heatmap}. */
export interface HeatmapOptions {
  /**
   * Which part of the attribution to show (default `'auto'`: `'all'` when the reduced attribution has a
   * negative value anywhere in the batch, else `'positive'`). Pass it explicitly when comparing maps.
   */
  sign?: HeatmapSign | 'auto';
  /** Colour map name or custom anchors (default `'bwr'` for `sign = 'all'`, `'viridis'` otherwise). */
  colormap?: ColormapName | Colormap;
  /** Reduction over the channel axis of a rank-4 attribution (default `'sum'`, as Captum). */
  reduce?: ChannelReduction;
  /** The scale mapped to the end of the colour map (default `{ percentile: 99 }`). */
  clip?: HeatmapScale;
}

/**
 * Renders attributions `[N, H, W, C]` (channels reduced by `options.reduce`) or `[N, H, W]` as float32
 * RGB heatmaps `[N, H, W, 3]` in [0, 1] (caller disposes). Every example is scaled on its own. Unbatched
 * maps need a batch axis (`tf.expandDims(a, 0)`): `[H, W, C]` and `[N, H, W]` cannot be told apart.
 *
 * Defaults: `sign = 'auto'`, `colormap = 'bwr'` (signed) or `'viridis'`, `reduce = 'sum'`,
 * `clip = { percentile: 99 }`. Captum's `visualize_image_attr(attr, method='heat_map', sign=s,
 * outlier_perc=q)` corresponds to `heatmap(attr, { sign: s, clip: { percentile: 100 - q, cumulative: true } })`
 * with a colour map of your choice; `'blended_heat_map'` to {@link overlay} of the result on the image.
 *
 * Reads two or three flags back (one synchronous read) to reject NaN/∞ and to resolve `sign: 'auto'`.
 * @example
 * const ig = await integratedGradients(model, x, { target: 3 });
 * const rgb = heatmap(ig, { sign: 'all', clip: { percentile: 99 } }); // [N, H, W, 3], white = 0
 */
export function heatmap(attribution: tf.Tensor, options: HeatmapOptions = {}): tf.Tensor4D {
  assertBatchedTensor(attribution, 'attribution', 3);
  if (attribution.rank > 4) {
    throw new GlassboxArgumentError(
      'attribution',
      `expected [N, H, W] or [N, H, W, C], got shape [${attribution.shape.join(', ')}]`,
    );
  }
  if (attribution.size === 0) {
    throw new GlassboxArgumentError('attribution', `is empty (shape [${attribution.shape.join(', ')}])`);
  }
  if (typeof options !== 'object' || options === null) {
    throw new GlassboxArgumentError('options', `expected an object, got ${describeValue(options)}`);
  }
  const sign = options.sign ?? 'auto';
  assertOneOf(sign, 'options.sign', ['auto', ...HEATMAP_SIGNS]);
  const reduce = options.reduce ?? 'sum';
  assertOneOf(reduce, 'options.reduce', CHANNEL_REDUCTIONS);
  const clip = resolveScale(options.clip);
  const explicitMap = options.colormap === undefined ? undefined : resolveColormap(options.colormap);

  return tf.tidy(() => {
    const values = tf.cast(attribution, 'float32');
    const reduced = attribution.rank === 3 ? values : reduceChannels(values, reduce);
    const [hasNaN, hasInf, hasNegative] = tf
      .stack([tf.any(tf.isNaN(values)), tf.any(tf.isInf(values)), tf.any(tf.less(reduced, 0))])
      .dataSync();
    if (hasNaN) throw new GlassboxArgumentError('attribution', 'contains NaN values; a heatmap needs finite values');
    if (hasInf) throw new GlassboxArgumentError('attribution', 'contains infinite values; a heatmap needs finite values');
    const shown: HeatmapSign = sign === 'auto' ? (hasNegative ? 'all' : 'positive') : sign;
    const map = explicitMap ?? resolveColormap(shown === 'all' ? 'bwr' : 'viridis');

    const magnitude =
      shown === 'positive' ? tf.relu(reduced) : shown === 'negative' ? tf.relu(tf.neg(reduced)) : tf.abs(reduced);
    const scale = scaleOf(magnitude, clip);
    const position =
      shown === 'all'
        ? tf.mul(tf.add(tf.clipByValue(tf.div(reduced, scale), -1, 1), 1), 0.5)
        : tf.clipByValue(tf.div(magnitude, scale), 0, 1);
    return colorize(position, map) as tf.Tensor4D;
  });
}

function reduceChannels(values: tf.Tensor, reduce: ChannelReduction): tf.Tensor {
  if (reduce === 'sum') return tf.sum(values, 3);
  if (reduce === 'abs-sum') return tf.sum(tf.abs(values), 3);
  return tf.max(tf.abs(values), 3);
}

function resolveScale(clip: HeatmapScale | undefined): Required<{ percentile: number; cumulative: boolean }> | { value: number } {
  if (clip === undefined) return { percentile: 99, cumulative: false };
  if (typeof clip !== 'object' || clip === null) {
    throw new GlassboxArgumentError(
      'options.clip',
      `expected { percentile, cumulative? } or { value }, got ${describeValue(clip)}`,
    );
  }
  if ('value' in clip) {
    assertNumberInRange(clip.value, 'options.clip.value', { min: 0, minExclusive: true });
    return { value: clip.value };
  }
  assertNumberInRange(clip.percentile, 'options.clip.percentile', { min: 0, minExclusive: true, max: 100 });
  const cumulative = clip.cumulative ?? false;
  if (typeof cumulative !== 'boolean') {
    throw new GlassboxArgumentError('options.clip.cumulative', `expected a boolean, got ${describeValue(cumulative)}`);
  }
  return { percentile: clip.percentile, cumulative };
}

/** The per-example scale `[N, 1, 1]` of non-negative magnitudes `[N, H, W]`; zeros become 1. */
function scaleOf(magnitude: tf.Tensor, clip: ReturnType<typeof resolveScale>): tf.Tensor {
  if ('value' in clip) return tf.scalar(clip.value);
  const n = magnitude.shape[0]!;
  const rows = tf.reshape(magnitude, [n, -1]);
  const threshold = clip.cumulative ? cumulativeThreshold(rows, clip.percentile) : percentile(rows, clip.percentile);
  const scale = tf.where(tf.greater(threshold, 0), threshold, tf.onesLike(threshold));
  return tf.reshape(scale, [n, 1, 1]);
}

/**
 * The p-th percentile of each row of `rows: [N, P]` with linear interpolation (numpy's default): rank
 * `q = p/100 · (P − 1)` of the ascending order statistics, `v_⌊q⌋ + (q − ⌊q⌋)(v_⌈q⌉ − v_⌊q⌋)`.
 * Only the `P − ⌊q⌋` largest values are sorted.
 */
function percentile(rows: tf.Tensor, p: number): tf.Tensor {
  const [n, size] = rows.shape as [number, number];
  const rank = (p / 100) * (size - 1);
  const lowerRank = Math.floor(rank);
  const k = size - lowerRank;
  const { values } = tf.topk(rows, k); // descending: ascending rank i sits at column size − 1 − i
  const lower = tf.slice(values, [0, k - 1], [n, 1]);
  if (k === 1) return lower;
  const upper = tf.slice(values, [0, k - 2], [n, 1]);
  return tf.add(lower, tf.mul(tf.sub(upper, lower), rank - lowerRank));
}

/**
 * Captum's `_cumulative_sum_threshold`: sort each row ascending, and return the first sorted value at
 * which the running sum reaches `p`% of the row's total.
 */
function cumulativeThreshold(rows: tf.Tensor, p: number): tf.Tensor {
  const [n, size] = rows.shape as [number, number];
  const ascending = tf.reverse(tf.topk(rows, size).values, 1);
  const running = tf.cumsum(ascending, 1);
  const total = tf.slice(running, [0, size - 1], [n, 1]);
  const reached = tf.greaterEqual(running, tf.mul(total, p / 100));
  const rowMax = tf.broadcastTo(tf.slice(ascending, [0, size - 1], [n, 1]), [n, size]);
  return tf.min(tf.where(reached, ascending, rowMax), 1, true);
}
