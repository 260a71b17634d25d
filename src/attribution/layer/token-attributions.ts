/**
 * One score per token from an attribution at an embedding's output: the sum over the embedding axis,
 * `[N, T, D] → [N, T]`. Sums keep completeness: the tokens' scores of a layer-IG attribution add up to
 * `f_c(x) − f_c(baseline)`, as the embedding units' did.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeValue, GlassboxArgumentError } from '../../core/errors';

/**
 * Per-token scores `[N, T]` of an attribution at an Embedding's output `[N, T, D]` (e.g. from
 * {@link layerIntegratedGradients} with `layer` the Embedding): the sum over the embedding axis. The
 * caller owns the result; `attribution` is not disposed.
 * @example
 * const perToken = tokenAttributions(await layerIntegratedGradients(model, ids, { layer: 'embedding', target: 1 }));
 */
export function tokenAttributions(attribution: tf.Tensor): tf.Tensor2D {
  if (!(attribution instanceof tf.Tensor) || attribution.isDisposed || attribution.rank !== 3) {
    throw new GlassboxArgumentError(
      'attribution',
      `expected an attribution at an embedding's output, [N, tokens, embedding size], got ${attribution instanceof tf.Tensor && attribution.isDisposed ? 'a disposed tensor' : describeValue(attribution)}`,
    );
  }
  return tf.sum(attribution, 2) as tf.Tensor2D;
}
