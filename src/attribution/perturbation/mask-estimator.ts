/**
 * The randomised-masking estimator shared by RISE and MFPP:
 * `S(u) = Σ_i s(x ⊙ M_i) · M_i(u) / (N · E[M])`, where `s` is the target score, `M_i` the i-th random
 * mask (the same mask set for every example) and `E[M]` the expected mask value, so a constant model
 * gets its constant everywhere.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeValue, GlassboxArgumentError } from '../../core/errors';
import { accumulateOverPoints } from '../../core/accumulate';
import type { Evaluator } from '../../core/evaluate';
import type { PreparedCall } from '../../core/prepare';

/**
 * Draws the masks of mask indices `masks` for `examples`: `count · H · W` values in [0, 1], mask after
 * mask, row-major (plain JS, uploaded once per chunk).
 */
export type MaskSampler = (masks: Int32Array, examples: Int32Array) => Float32Array;

/** Asserts an image batch `[N, H, W]` or `[N, H, W, C]`, as mask-based methods need. */
export function assertImageBatch(x: tf.Tensor): void {
  if (x.rank !== 3 && x.rank !== 4) {
    throw new GlassboxArgumentError(
      'x',
      `expected a batch of images, shape [N, H, W] or [N, H, W, C] (channels last), got ${describeValue(x)}`,
    );
  }
}

/**
 * `x[examples[r]] ⊙ masks[r]` for every row `r`, with `masks` already given per value,
 * `[count, H·W·C]`. Rows come in runs of one example (rows are example-major); each run replicates that
 * example's image with a rank-1 product by ones (`1 · v`, exact in float32) and multiplies shapes that
 * match. Gathering image copies cost more than the model on wasm, and broadcasting or tiling runs a
 * per-element index loop on the cpu backend that is 5× slower; matching shapes are fast everywhere.
 */
function maskedCopies(x: tf.Tensor, masks: tf.Tensor2D, examples: Int32Array): tf.Tensor {
  const values = masks.shape[1];
  const products: tf.Tensor[] = [];
  for (let first = 0; first < examples.length; ) {
    let end = first + 1;
    while (end < examples.length && examples[end] === examples[first]) end++;
    const rows = end - first;
    const copies = repeatRow(tf.reshape(tf.slice(x, examples[first], 1), [1, values]), rows);
    products.push(tf.mul(copies, rows === examples.length ? masks : tf.slice(masks, first, rows)));
    first = end;
  }
  const flat = products.length === 1 ? products[0] : tf.concat(products, 0);
  return tf.reshape(flat, [examples.length, ...x.shape.slice(1)]);
}

/** Each of the `values` repeated `times` times in place: `[a, a, b, b, …]` (a mask per colour channel). */
function repeatEach(values: Float32Array, times: number): Float32Array {
  if (times === 1) return values;
  const out = new Float32Array(values.length * times);
  for (let i = 0, j = 0; i < values.length; i++) {
    const value = values[i];
    for (let end = j + times; j < end; j++) out[j] = value;
  }
  return out;
}

/** `[times, k]`: the row `[1, k]` repeated, as the exact rank-1 product `1 · row`. */
function repeatRow(row: tf.Tensor, times: number): tf.Tensor2D {
  return tf.matMul(tf.ones([times, 1]), row as tf.Tensor2D);
}

/** `[n, times]`: the column `[n, 1]` repeated, as the exact rank-1 product `column · 1`. */
function repeatColumn(column: tf.Tensor, times: number): tf.Tensor2D {
  return tf.matMul(column as tf.Tensor2D, tf.ones([1, times]));
}

/**
 * Runs the estimator with `masks` masks per example in chunks of `batchSize` masked inputs (rows are
 * example-major: row r is example ⌊r/N⌋, mask r mod N). Returns the saliency broadcast to the input's
 * shape (one value per pixel, repeated over channels).
 */
export async function maskedScoreSaliency(
  call: PreparedCall,
  options: { method: string; masks: number; expectedMask: number; sample: MaskSampler; evaluator?: Evaluator },
): Promise<tf.Tensor> {
  const { masks, sample } = options;
  const input = call.single(options.method);
  assertImageBatch(input);
  const [height, width, channels = 1] = input.shape.slice(1);
  const hasChannels = input.rank === 4;
  const [sum] = await accumulateOverPoints<tf.Tensor2D>({
    ...call.plan,
    evaluator: options.evaluator ?? call.evaluator,
    numExamples: call.numExamples,
    total: call.numExamples * masks,
    needs: 'scores',
    // Each chunk's masks `[count, H·W]` go to `terms` as the chunk's extra.
    points: (start, count) => {
      const examples = Int32Array.from({ length: count }, (_, i) => Math.floor((start + i) / masks));
      const maskIndices = Int32Array.from({ length: count }, (_, i) => (start + i) % masks);
      const values = sample(maskIndices, examples);
      const chunkMasks = tf.tensor2d(values, [count, height * width]);
      const perValue = channels === 1 ? chunkMasks : tf.tensor2d(repeatEach(values, channels), [count, height * width * channels]);
      return { inputs: [maskedCopies(input, perValue, examples)], examples, extra: chunkMasks };
    },
    terms: (rows, evaluation) => {
      const scores = repeatColumn(tf.reshape(evaluation.scores, [rows.count, 1]), height * width);
      return [tf.reshape(tf.mul(scores, rows.extra), [rows.count, height, width])];
    },
  });
  try {
    return tf.tidy(() => {
      const saliency = tf.div(sum, masks * options.expectedMask);
      return tf.broadcastTo(hasChannels ? tf.expandDims(saliency, 3) : saliency, input.shape);
    });
  } finally {
    sum.dispose();
  }
}
