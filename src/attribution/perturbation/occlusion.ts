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
import { accumulateOverPoints, collectOverRows } from '../../core/accumulate';
import { describeValue, GlassboxArgumentError } from '../../core/errors';
import type { ModelLike } from '../../core/model';
import { resolveReference } from '../../core/inputs';
import { optionKeys } from '../../core/option-keys';
import { COMMON_OPTION_KEYS, type CommonOptions } from '../../core/options';
import { exampleRows, perRow, prepareCall, type PreparedCall } from '../../core/prepare';

/** Options of {@link occlusion}. */
export interface OcclusionOptions extends CommonOptions {
  /** Window size along each feature axis (batch excluded), e.g. `[8, 8, 3]` for `[N, H, W, 3]` images. */
  window: number[];
  /** Step along each axis (batch excluded), or one step for all axes (default 1, as Captum). */
  strides?: number | number[];
  /** Value of occluded features: a number, or a tensor shaped like `x`, `[1, ...features]` or `[C]` (default 0). */
  baseline?: number | tf.Tensor;
}

const OCCLUSION_KEYS = optionKeys<OcclusionOptions>()('window', 'strides', 'baseline', ...COMMON_OPTION_KEYS);

/**
 * Occlusion attribution of the target score, shaped like `x` (any rank). Costs one forward pass per
 * window position and example, plus one for the unoccluded input; `batchSize` bounds each pass.
 * @example
 * const map = await occlusion(model, images, { target: 3, window: [8, 8, 3], strides: [4, 4, 3] });
 */
export async function occlusion(model: ModelLike, x: tf.Tensor, options: OcclusionOptions): Promise<tf.Tensor> {
  const call = await prepareCall(model, x, options, { keys: OCCLUSION_KEYS, gradients: false });
  let baselines: tf.Tensor[] = [];
  try {
    const input = call.single('occlusion');
    const featureShape = input.shape.slice(1);
    const windows = windowGrid(featureShape, options?.window, options?.strides ?? 1);
    baselines = await resolveReference(options?.baseline, call.inputs, 'options.baseline');
    const total = call.numExamples * (1 + windows.count);
    const report = call.plan.onProgress;
    const progress = (offset: number) => report && ((done: number) => report(offset + done, total));
    const original = await scoresOf(call, progress(0));
    const from = baselines[0];
    const featureRank = featureShape.length;
    const [sum] = await accumulateOverPoints<tf.Tensor>({
      ...call.plan,
      onProgress: progress(call.numExamples),
      evaluator: call.evaluator,
      numExamples: call.numExamples,
      total: call.numExamples * windows.count,
      needs: 'scores',
      // The chunk's window masks go to `terms` as its extra.
      points: (start, count) => {
        const examples = Int32Array.from({ length: count }, (_, i) => Math.floor((start + i) / windows.count));
        const indices = tf.tensor1d(examples, 'int32');
        const rows = tf.gather(input, indices);
        const masks = windows.masks(start, count);
        return { inputs: [tf.add(rows, tf.mul(masks, tf.sub(tf.gather(from, indices), rows)))], examples, extra: masks };
      },
      terms: (rows, evaluation) => {
        const unoccluded = perRow(Array.from(rows.examples, (e) => original[e]), featureRank);
        const drop = tf.sub(unoccluded, tf.reshape(evaluation.scores, unoccluded.shape));
        return [tf.mul(drop, rows.extra)];
      },
    });
    try {
      return tf.tidy(() => tf.mul(sum, windows.inverseCoverage()));
    } finally {
      sum.dispose();
    }
  } finally {
    baselines.forEach((b) => b.dispose());
    call.dispose();
  }
}

/** The unoccluded target scores, one per example. */
async function scoresOf(call: PreparedCall, onProgress: ((done: number) => void) | undefined): Promise<Float32Array> {
  const [scores] = await collectOverRows({
    ...call.plan,
    onProgress,
    evaluator: call.evaluator,
    total: call.numExamples,
    needs: 'scores',
    points: (start, count) => exampleRows(call, start, count),
    terms: (_rows, evaluation) => [evaluation.scores],
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
