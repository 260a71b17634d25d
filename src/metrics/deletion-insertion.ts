/**
 * Deletion and insertion (Petsiuk, Das, Saenko 2018, "RISE: Randomized Input Sampling for Explanation of
 * Black-box Models"): how fast the target score falls when the most salient pixels are removed first,
 * and how fast it rises when they are put back first.
 *
 * Pixels are ordered by decreasing saliency (for `[N, H, W, C]` attributions the sum over channels; ties
 * go to the lower pixel index, so the order is deterministic). In `K = steps` steps of `⌈P/K⌉` pixels
 * (P pixels per example), the next pixels are copied from a `finish` image into a `start` image, giving
 * scores `s_0 … s_K` (s_0 on the start image, s_K on the finish image). The area under the curve is the
 * trapezoid rule on `[0, 1]`: `AUC = (Σ_k s_k − s_0/2 − s_K/2) / K`.
 *
 * - Deletion: start `x`, finish the baseline (default 0). A faithful attribution removes what the model
 *   relies on first, so the score falls fast: **lower is better**.
 * - Insertion: start a blurred `x` (Gaussian, kernel 11, σ 5), finish `x`. A faithful attribution
 *   restores what the model needs first: **higher is better**.
 *
 * The blur is a separable normalised convolution: the image is zero-padded, blurred with a sampled,
 * normalised 1-D Gaussian along each axis, and divided by the blur of an all-ones image, so every output
 * pixel is the Gaussian-weighted mean of the pixels inside the image. Borders are neither darkened (as
 * with RISE's zero-padded `conv2d`) nor mirrored (reflection would need images larger than the kernel
 * radius); the interior is exactly the sampled Gaussian blur. RISE's kernel is scipy's `gaussian_filter`
 * of an 11 × 11 delta, whose reflected tails make it slightly flatter than the sampled Gaussian.
 */
import * as tf from '@tensorflow/tfjs-core';
import { renamedOption } from '../core/deprecation';
import { describeValue, GlassboxArgumentError } from '../core/errors';
import type { ModelLike } from '../core/model';
import type { CommonOptions } from '../core/options';
import { resolveReference } from '../core/inputs';
import { optionKeys } from '../core/option-keys';
import { COMMON_OPTION_KEYS } from '../core/options';
import { perRow, prepareCall, type PreparedCall } from '../core/prepare';
import { assertBatchedTensor, assertFinite, assertInteger, assertNumberInRange, assertOneOf } from '../core/validate';
import { SCORE_TRANSFORMS, type ScoreTransform } from '../core/score-transform';
import { scoreRows } from './scored-rows';

/** Which curves {@link deletionInsertion} computes. */
export const DELETION_INSERTION_MODES = ['both', 'deletion', 'insertion'] as const;
/** A mode of {@link deletionInsertion}: both curves (default) or one of them (half the model calls). */
export type DeletionInsertionMode = (typeof DELETION_INSERTION_MODES)[number];

/** Options of {@link deletionInsertion}. */
export interface DeletionInsertionOptions<M extends DeletionInsertionMode = 'both'> extends CommonOptions {
  /**
   * Number of steps `K` (default 100). Each step copies `⌈P/K⌉` more pixels (P = H·W, or D for `[N, D]`
   * inputs); the curves have `K + 1` points. RISE copies one image row's worth of pixels per step
   * (`step = 224` on 224 × 224 images, i.e. `K = 224`); set `curveSteps: H` to do the same. (Named so that `steps` always means IG's path points.)
   */
  curveSteps?: number;
  /** `'both'` (default), `'deletion'` or `'insertion'`. */
  mode?: M;
  /**
   * What deletion fills removed pixels with, and, for `[N, D]` inputs, where insertion starts: a number
   * or a tensor shaped like `x` or `[1, ...x.shape.slice(1)]` (default 0, as RISE).
   */
  baseline?: number | tf.Tensor;
  /**
   * The image insertion starts from: `'blur'` (default for images: `x` blurred with a Gaussian of
   * `blur.size` and `blur.sigma`), or a number or tensor like `baseline`. For `[N, D]` inputs the
   * default is `baseline` (a blur has no meaning there).
   */
  insertionStart?: 'blur' | number | tf.Tensor;
  /** The insertion blur: an odd kernel `size` (default 11) and `sigma` in pixels (default 5), as RISE. */
  blur?: {
    /** Odd kernel size in pixels (default 11). */
    size?: number;
    /** Standard deviation in pixels (default 5). */
    sigma?: number;
  };
  /**
   * Score on each perturbed input, applied to the model output before the target picks it: `'none'`
   * (default, the raw output, e.g. a logit, as every attribution of the library explains), `'softmax'`
   * (the target's probability; RISE's choice, curves in [0, 1]) or `'sigmoid'`.
   */
  score?: ScoreTransform;
  /** @deprecated Renamed `curveSteps`; removed in the next release. */
  steps?: number;
}

/** Deletion results: AUC `[N]` and curve `[N, K + 1]` (`deletionCurve[n][k]` = score after k steps). */
export interface DeletionResult {
  /** Area under the deletion curve, per example (lower is better). */
  deletion: tf.Tensor1D;
  /** The score after each deletion step, per example. */
  deletionCurve: tf.Tensor2D;
}
/** Insertion results: AUC `[N]` and curve `[N, K + 1]` (`insertionCurve[n][k]` = score after k steps). */
export interface InsertionResult {
  /** Area under the insertion curve, per example (higher is better). */
  insertion: tf.Tensor1D;
  /** The score after each insertion step, per example. */
  insertionCurve: tf.Tensor2D;
}
/** What {@link deletionInsertion} returns for a mode: all four tensors for `'both'`. The caller disposes them. */
export type DeletionInsertionResult<M extends DeletionInsertionMode = 'both'> = (M extends 'insertion'
  ? Record<never, never>
  : DeletionResult) &
  (M extends 'deletion' ? Record<never, never> : InsertionResult);

const DELETION_INSERTION_KEYS = optionKeys<DeletionInsertionOptions<DeletionInsertionMode>>()(
  'curveSteps',
  'steps',
  'mode',
  'baseline',
  'insertionStart',
  'blur',
  'score',
  ...COMMON_OPTION_KEYS,
);

/**
 * Deletion and insertion curves and their AUCs (RISE, Petsiuk et al. 2018) of `attribution` for the
 * target score. `x` is an image batch `[N, H, W, C]` or `[N, H, W]` (features are pixels) or a batch of
 * vectors `[N, D]` (features are entries); `attribution` is shaped like `x`, or `[N, H, W]` /
 * `[N, H, W, 1]` for images. Costs `(K + 1) · N` forward passes per curve, in chunks of `batchSize`;
 * `onProgress` counts them.
 * @example
 * const map = await integratedGradients(model, images, { target: labels });
 * const { deletion, insertion, deletionCurve, insertionCurve } =
 *   await deletionInsertion(model, images, map, { target: labels, curveSteps: 28, score: 'softmax' });
 */
export async function deletionInsertion<M extends DeletionInsertionMode = 'both'>(
  model: ModelLike,
  x: tf.Tensor,
  attribution: tf.Tensor,
  options: DeletionInsertionOptions<M> = {},
): Promise<DeletionInsertionResult<M>> {
  options = options ?? {};
  const steps = renamedOption<number>(options, 'curveSteps', 'steps') ?? 100;
  assertInteger(steps, 'options.curveSteps', 1);
  const mode: DeletionInsertionMode = options.mode ?? 'both';
  assertOneOf(mode, 'options.mode', DELETION_INSERTION_MODES);
  const score = options.score ?? 'none';
  assertOneOf(score, 'options.score', SCORE_TRANSFORMS);
  const blurSize = options.blur?.size ?? 11;
  const blurSigma = options.blur?.sigma ?? 5;
  if (!Number.isInteger(blurSize) || blurSize < 1 || blurSize % 2 === 0) {
    throw new GlassboxArgumentError('options.blur.size', `expected an odd positive integer, got ${describeValue(blurSize)}`);
  }
  assertNumberInRange(blurSigma, 'options.blur.sigma', { min: 0, minExclusive: true });
  const call = await prepareCall(model, x, options, { keys: DELETION_INSERTION_KEYS, gradients: false });
  const owned: tf.Tensor[] = [];
  try {
    const input = call.single('deletionInsertion');
    const layout = featureLayout(input, attribution);
    await assertFinite(attribution, 'attribution');
    const ranks = await saliencyRanks(attribution, layout);
    owned.push(ranks);
    const n = call.numExamples;
    const points = layout.pixels;
    const perStep = Math.ceil(points / steps);
    // The start and finish images of each curve, stacked curve-major: row (curve · N + e).
    const [baseline] = await resolveReference(options.baseline, call.inputs, 'options.baseline');
    owned.push(baseline);
    const curves: ('deletion' | 'insertion')[] = mode === 'both' ? ['deletion', 'insertion'] : [mode];
    const starts: tf.Tensor[] = [];
    const finishes: tf.Tensor[] = [];
    for (const curve of curves) {
      if (curve === 'deletion') {
        starts.push(input);
        finishes.push(baseline);
      } else {
        const start = await insertionStart(options.insertionStart, call, baseline, layout, blurSize, blurSigma);
        owned.push(start);
        starts.push(start);
        finishes.push(input);
      }
    }
    const start = tf.concat(starts, 0);
    owned.push(start);
    const finish = tf.concat(finishes, 0);
    owned.push(finish);
    const perCurve = n * (steps + 1);
    const scores = await scoreRows(call, {
      total: curves.length * perCurve,
      score,
      rows: (first, count) => {
        const source = new Int32Array(count);
        const examples = new Int32Array(count);
        const copied = new Float32Array(count);
        for (let i = 0; i < count; i++) {
          const row = first + i;
          const curve = Math.floor(row / perCurve);
          const e = Math.floor((row % perCurve) / (steps + 1));
          const k = row % (steps + 1);
          examples[i] = e;
          source[i] = curve * n + e;
          copied[i] = Math.min(k * perStep, points);
        }
        const sourceIndices = tf.tensor1d(source, 'int32');
        // 1 where the pixel is among the `copied` most salient ones of its example.
        const mask = tf.cast(tf.less(tf.gather(ranks, tf.tensor1d(examples, 'int32')), perRow(copied, layout.maskShape.length)), 'float32');
        const inputs = tf.add(tf.mul(tf.gather(start, sourceIndices), tf.sub(1, mask)), tf.mul(tf.gather(finish, sourceIndices), mask));
        return { inputs, examples };
      },
    });
    try {
      return tf.tidy(() => {
        const all = tf.reshape(scores, [curves.length, n, steps + 1]);
        const result: Record<string, tf.Tensor> = {};
        curves.forEach((curve, c) => {
          const curveScores = tf.reshape(tf.slice(all, [c, 0, 0], [1, n, steps + 1]), [n, steps + 1]) as tf.Tensor2D;
          result[curve] = areaUnderCurve(curveScores, steps);
          result[`${curve}Curve`] = curveScores;
        });
        return result;
      }) as unknown as DeletionInsertionResult<M>;
    } finally {
      scores.dispose();
    }
  } finally {
    owned.forEach((t) => t.dispose());
    call.dispose();
  }
}

/** How the features of `x` are grouped into the units that are ranked and copied. */
interface FeatureLayout {
  /** Number of ranked units per example (pixels, or entries for `[N, D]`). */
  pixels: number;
  /** Shape of one example's rank map, broadcastable against one example of `x`. */
  maskShape: number[];
  /** `x` is an image batch (rank 3 or 4). */
  image: boolean;
}

/** Validates `attribution` against `x` and describes the ranked units. */
function featureLayout(x: tf.Tensor, attribution: unknown): FeatureLayout {
  assertBatchedTensor(attribution, 'attribution');
  const shape = (s: readonly number[]) => `[${s.join(', ')}]`;
  if (x.rank < 2 || x.rank > 4) {
    throw new GlassboxArgumentError(
      'x',
      `expected vectors [N, D] or images [N, H, W] / [N, H, W, C] (channels last), got shape ${shape(x.shape)}`,
    );
  }
  const [n, ...features] = x.shape;
  const sameAs = (s: number[]) => attribution.rank === s.length && attribution.shape.every((d, i) => d === s[i]);
  if (x.rank === 2) {
    if (!sameAs(x.shape)) throw new GlassboxArgumentError('attribution', `expected shape ${shape(x.shape)} (like x), got ${shape(attribution.shape)}`);
    return { pixels: features[0], maskShape: features, image: false };
  }
  const [height, width] = features;
  const accepted = [[n, height, width], [n, height, width, 1], ...(x.rank === 4 ? [x.shape] : [])];
  if (!accepted.some(sameAs)) {
    throw new GlassboxArgumentError(
      'attribution',
      `expected one of ${[...new Set(accepted.map(shape))].join(', ')} for x of shape ${shape(x.shape)}, got ${shape(attribution.shape)}`,
    );
  }
  return { pixels: height * width, maskShape: x.rank === 4 ? [height, width, 1] : [height, width], image: true };
}

/**
 * The rank of every unit in its example's saliency order (0 = most salient; ties by lower index),
 * `[N, ...maskShape]` float32. One read-back of the per-pixel saliency.
 */
async function saliencyRanks(attribution: tf.Tensor, layout: FeatureLayout): Promise<tf.Tensor> {
  const n = attribution.shape[0];
  const perPixel = tf.tidy(() => {
    const values = tf.cast(attribution, 'float32');
    const summed = attribution.rank === 4 ? tf.sum(values, 3) : values;
    return tf.reshape(summed, [n, layout.pixels]);
  });
  let values: Float32Array;
  try {
    values = (await perPixel.data()) as Float32Array;
  } finally {
    perPixel.dispose();
  }
  const points = layout.pixels;
  const ranks = new Float32Array(n * points);
  const order = new Int32Array(points);
  for (let e = 0; e < n; e++) {
    const offset = e * points;
    for (let p = 0; p < points; p++) order[p] = p;
    order.sort((a, b) => values[offset + b] - values[offset + a] || a - b);
    for (let r = 0; r < points; r++) ranks[offset + order[r]] = r;
  }
  return tf.tensor(ranks, [n, ...layout.maskShape], 'float32');
}

/** The start image of insertion: the blurred input, or a given value. */
async function insertionStart(
  option: DeletionInsertionOptions['insertionStart'],
  call: PreparedCall,
  baseline: tf.Tensor,
  layout: FeatureLayout,
  size: number,
  sigma: number,
): Promise<tf.Tensor> {
  const input = call.inputs.tensors[0];
  if (option === undefined && !layout.image) return tf.clone(baseline);
  if (option === undefined || option === 'blur') {
    if (!layout.image) {
      throw new GlassboxArgumentError('options.insertionStart', `'blur' needs images [N, H, W] or [N, H, W, C]; x has shape [${input.shape.join(', ')}]`);
    }
    return gaussianBlur(input, size, sigma);
  }
  if (typeof option === 'string') {
    throw new GlassboxArgumentError('options.insertionStart', `expected 'blur', a number or a tf.Tensor, got ${describeValue(option)}`);
  }
  const [start] = await resolveReference(option, call.inputs, 'options.insertionStart');
  return start;
}

/**
 * Normalised Gaussian blur of images `[N, H, W]` or `[N, H, W, C]`: a separable depthwise convolution
 * with zero padding, divided by the same blur of an all-ones image (the weights of the pixels inside).
 */
export function gaussianBlur(images: tf.Tensor, size: number, sigma: number): tf.Tensor {
  return tf.tidy(() => {
    const image4d = (images.rank === 3 ? tf.expandDims(images, 3) : images) as tf.Tensor4D;
    const [, height, width, channels] = image4d.shape;
    const radius = (size - 1) / 2;
    const weights = Array.from({ length: size }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
    const total = weights.reduce((a, b) => a + b, 0);
    const kernel = weights.map((w) => w / total);
    const separable = (v: tf.Tensor4D, c: number): tf.Tensor4D => {
      const column = tf.tensor4d(kernel.flatMap((w) => new Array<number>(c).fill(w)), [size, 1, c, 1]);
      const row = tf.tensor4d(kernel.flatMap((w) => new Array<number>(c).fill(w)), [1, size, c, 1]);
      const vertical = tf.depthwiseConv2d(tf.pad(v, [[0, 0], [radius, radius], [0, 0], [0, 0]]), column, 1, 'valid');
      return tf.depthwiseConv2d(tf.pad(vertical, [[0, 0], [0, 0], [radius, radius], [0, 0]]), row, 1, 'valid');
    };
    const blurred = tf.div(separable(image4d, channels), separable(tf.ones([1, height, width, 1]), 1));
    return images.rank === 3 ? tf.squeeze(blurred, [3]) : blurred;
  });
}

/** Trapezoid AUC on [0, 1] of curves `[N, K + 1]`: `(Σ s_k − s_0/2 − s_K/2) / K`. */
function areaUnderCurve(curves: tf.Tensor2D, steps: number): tf.Tensor1D {
  const n = curves.shape[0];
  const ends = tf.add(tf.slice(curves, [0, 0], [n, 1]), tf.slice(curves, [0, steps], [n, 1]));
  return tf.div(tf.sub(tf.sum(curves, 1), tf.mul(tf.reshape(ends, [n]), 0.5)), steps) as tf.Tensor1D;
}
