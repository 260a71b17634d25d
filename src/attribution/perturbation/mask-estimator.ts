/**
 * The randomised-masking estimator shared by RISE and MFPP:
 * `S(u) = Σ_i s(x ⊙ M_i) · M_i(u) / (N · E[M])`, where `s` is the target score, `M_i` the i-th random
 * mask (the same mask set for every example) and `E[M]` the expected mask value, so a constant model
 * gets its constant everywhere.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeValue, GlassboxArgumentError } from '../../core/errors';
import { accumulateOverPoints } from '../../core/accumulate';
import type { ForwardFunction } from '../../core/model';
import type { PreparedCall } from '../../core/prepare';

/** Produces the masks `[count, H, W, 1]` (values in [0, 1]) of mask indices `masks` for `examples`. */
export type MaskSampler = (masks: Int32Array, examples: Int32Array) => tf.Tensor4D;

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
 * Runs the estimator with `masks` masks per example in chunks of `batchSize` masked inputs (rows are
 * example-major: row r is example ⌊r/N⌋, mask r mod N). Returns the saliency broadcast to the input's
 * shape (one value per pixel, repeated over channels).
 */
export async function maskedScoreSaliency(
  call: PreparedCall,
  options: { masks: number; expectedMask: number; sample: MaskSampler; forward?: ForwardFunction },
): Promise<tf.Tensor> {
  const { masks, sample } = options;
  const [height, width] = call.featureShape;
  const hasChannels = call.featureShape.length === 3;
  // The masks of the current chunk, made in `points` and reused in `terms` (same tidy scope).
  let chunkMasks: tf.Tensor4D | null = null;
  const [sum] = await accumulateOverPoints({
    ...call.plan,
    forward: options.forward ?? call.forward,
    target: call.target,
    numExamples: call.numExamples,
    total: call.numExamples * masks,
    needs: 'scores',
    points: (start, count) => {
      const examples = Int32Array.from({ length: count }, (_, i) => Math.floor((start + i) / masks));
      const maskIndices = Int32Array.from({ length: count }, (_, i) => (start + i) % masks);
      chunkMasks = sample(maskIndices, examples);
      const images = tf.gather(call.input, tf.tensor1d(examples, 'int32'));
      const perPixel = hasChannels ? chunkMasks : tf.reshape(chunkMasks, [count, height, width]);
      return { inputs: tf.mul(images, perPixel), examples };
    },
    terms: (rows, evaluation) => [
      tf.mul(tf.reshape(evaluation.scores!, [rows.count, 1, 1]), tf.reshape(chunkMasks!, [rows.count, height, width])),
    ],
  });
  try {
    return tf.tidy(() => {
      const saliency = tf.div(sum, masks * options.expectedMask);
      return tf.broadcastTo(hasChannels ? tf.expandDims(saliency, 3) : saliency, call.input.shape);
    });
  } finally {
    sum.dispose();
  }
}
