/**
 * Occlusion (Zeiler, Fergus 2014; Captum's `Occlusion`): slide a window over the input, set the
 * features under it to the baseline, and credit every covered feature with the drop of the target
 * score. A feature's attribution is the mean over the windows `W` that cover it of
 * `f_c(x) − f_c(x with W set to the baseline)`.
 *
 * Windows start at `0, s, 2s, …` along each feature axis and stay inside it (Captum's placement); a
 * feature that no window covers (when `(size − window)` is not a multiple of the stride) gets 0.
 */
import * as tf from '@tensorflow/tfjs-core';
import { accumulateOverPoints } from '../../core/accumulate';
import { describeValue, GlassboxArgumentError } from '../../core/errors';
import type { ModelLike } from '../../core/model';
import type { CommonOptions } from '../../core/options';
import { exampleRange, perRow, prepareCall, type PreparedCall } from '../../core/prepare';
import { resolveBaseline } from '../../core/validate';

/** Options of {@link occlusion}. */
export interface OcclusionOptions extends CommonOptions {
  /** Window size along each feature axis (batch excluded), e.g. `[8, 8, 3]` for `[N, H, W, 3]` images. */
  window: number[];
  /** Step along each axis (batch excluded), or one step for all axes (default 1, as Captum). */
  strides?: number | number[];
  /** Value of occluded features: a number, or a tensor shaped like `x` or `[1, ...features]` (default 0). */
  baseline?: number | tf.Tensor;
}

/**
 * Occlusion attribution of the target score, shaped like `x` (any rank). Costs one forward pass per
 * window position and example, plus one for the unoccluded input; `batchSize` bounds each pass.
 * @example
 * const map = await occlusion(model, images, { target: 3, window: [8, 8, 3], strides: [4, 4, 3] });
 */
export async function occlusion(model: ModelLike, x: tf.Tensor, options: OcclusionOptions): Promise<tf.Tensor> {
  options = options ?? ({} as OcclusionOptions);
  const call = await prepareCall(model, x, options);
  let baseline: tf.Tensor | undefined;
  try {
    const windows = windowGrid(call.featureShape, options.window, options.strides ?? 1);
    baseline = resolveBaseline(options.baseline, call.input);
    const total = call.numExamples * (1 + windows.count);
    const report = options.onProgress;
    const progress = (offset: number) => report && ((done: number) => report(offset + done, total));
    const original = await scoresOf(call, progress(0));
    const from = baseline;
    const featureRank = call.featureShape.length;
    // The window masks of the current chunk, made in `points` and reused in `terms` (same tidy scope).
    let chunkMasks: tf.Tensor | null = null;
    const [sum] = await accumulateOverPoints({
      ...call.plan,
      onProgress: progress(call.numExamples),
      forward: call.forward,
      target: call.target,
      numExamples: call.numExamples,
      total: call.numExamples * windows.count,
      needs: 'scores',
      points: (start, count) => {
        const examples = Int32Array.from({ length: count }, (_, i) => Math.floor((start + i) / windows.count));
        const indices = tf.tensor1d(examples, 'int32');
        const inputs = tf.gather(call.input, indices);
        chunkMasks = windows.masks(start, count);
        return { inputs: tf.add(inputs, tf.mul(chunkMasks, tf.sub(tf.gather(from, indices), inputs))), examples };
      },
      terms: (rows, evaluation) => {
        const unoccluded = perRow(Array.from(rows.examples, (e) => original[e]), featureRank);
        const drop = tf.sub(unoccluded, tf.reshape(evaluation.scores!, unoccluded.shape));
        return [tf.mul(drop, chunkMasks!)];
      },
    });
    try {
      return tf.tidy(() => tf.mul(sum, windows.inverseCoverage()));
    } finally {
      sum.dispose();
    }
  } finally {
    baseline?.dispose();
    call.dispose();
  }
}

/** The unoccluded target scores, one per example. */
async function scoresOf(call: PreparedCall, onProgress: ((done: number) => void) | undefined): Promise<Float32Array> {
  const [scores] = await accumulateOverPoints({
    ...call.plan,
    onProgress,
    forward: call.forward,
    target: call.target,
    numExamples: call.numExamples,
    total: call.numExamples,
    needs: 'scores',
    points: (start, count) => ({ inputs: tf.slice(call.input, start, count), examples: exampleRange(start, count) }),
    terms: (rows, evaluation) => [tf.reshape(evaluation.scores!, [rows.count, 1])],
  });
  try {
    return (await scores.data()) as Float32Array;
  } finally {
    scores.dispose();
  }
}

/** The window positions: a grid of `count` boxes over the feature axes, enumerated row-major. */
interface WindowGrid {
  count: number;
  /** Indicator masks `[count, ...features]` of rows `start ..` (row r is window r mod count). */
  masks(start: number, count: number): tf.Tensor;
  /** One over the number of windows that cover each feature (0 where none does), `[1, ...features]`. */
  inverseCoverage(): tf.Tensor;
}

function windowGrid(featureShape: number[], window: unknown, strides: unknown): WindowGrid {
  const rank = featureShape.length;
  const sizes = perAxis(window, 'options.window', featureShape, false);
  const steps = perAxis(strides, 'options.strides', featureShape, true);
  sizes.forEach((size, d) => {
    if (size > featureShape[d]) {
      throw new GlassboxArgumentError(
        'options.window',
        `window [${sizes.join(', ')}] does not fit the features [${featureShape.join(', ')}] (axis ${d})`,
      );
    }
  });
  const positions = featureShape.map((n, d) => Math.floor((n - sizes[d]) / steps[d]) + 1);
  const count = positions.reduce((a, b) => a * b, 1);
  // Window r's start along each axis (row-major over the position grid).
  const startsOf = (r: number): number[] => {
    const starts = new Array<number>(rank);
    for (let d = rank - 1; d >= 0; d--) {
      starts[d] = (r % positions[d]) * steps[d];
      r = Math.floor(r / positions[d]);
    }
    return starts;
  };
  /** Outer product over axes of per-axis indicators `[rows, n_d]`, broadcast to `[rows, ...features]`. */
  const boxes = (perAxisIndicators: tf.Tensor[]): tf.Tensor =>
    perAxisIndicators.reduce<tf.Tensor | null>((acc, indicator, d) => {
      const shape = [indicator.shape[0], ...featureShape.map((n, k) => (k === d ? n : 1))];
      const axis = tf.reshape(indicator, shape);
      return acc === null ? axis : tf.mul(acc, axis);
    }, null)!;
  return {
    count,
    masks: (start, rows) =>
      tf.tidy(() => {
        const starts = Array.from({ length: rows }, (_, i) => startsOf((start + i) % count));
        return boxes(
          featureShape.map((n, d) => {
            const lo = tf.tensor2d(starts.map((s) => s[d]), [rows, 1], 'int32');
            const hi = tf.tensor2d(starts.map((s) => s[d] + sizes[d]), [rows, 1], 'int32');
            const at = tf.range(0, n, 1, 'int32');
            const inside = tf.logicalAnd(tf.greaterEqual(at, lo), tf.less(at, hi));
            return tf.cast(inside, 'float32');
          }),
        );
      }),
    // The windows form a product grid, so a feature's coverage is the product of per-axis counts.
    inverseCoverage: () =>
      tf.tidy(() =>
        boxes(
          featureShape.map((n, d) => {
            // Window positions k (start k·step) along this axis with k·step ≤ i < k·step + size.
            const inverse = Float32Array.from({ length: n }, (_, i) => {
              const first = Math.max(0, Math.ceil((i - sizes[d] + 1) / steps[d]));
              const last = Math.min(positions[d] - 1, Math.floor(i / steps[d]));
              return last >= first ? 1 / (last - first + 1) : 0;
            });
            return tf.tensor2d(inverse, [1, n]);
          }),
        ),
      ),
  };
}

/** Reads a per-axis integer option (a number applies to every axis when `allowScalar`). */
function perAxis(value: unknown, argument: string, featureShape: number[], allowScalar: boolean): number[] {
  const rank = featureShape.length;
  const values = allowScalar && typeof value === 'number' ? new Array<number>(rank).fill(value) : value;
  if (!Array.isArray(values) || values.length !== rank || !values.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new GlassboxArgumentError(
      argument,
      `expected ${allowScalar ? 'a positive integer or ' : ''}${rank} positive integers, one per feature axis of ` +
        `[${featureShape.join(', ')}] (batch excluded), got ${describeValue(value)}`,
    );
  }
  return values as number[];
}
