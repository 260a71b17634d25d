/** The transforms the perturbation methods and metrics can apply to the model output before the target picks its score. */
import * as tf from '@tensorflow/tfjs-core';
import type { ForwardFunction } from './model';

/**
 * A score transform: `'none'` (the output as it is, e.g. a logit), `'softmax'` (over the last axis: the
 * probability of the target) or `'sigmoid'`.
 */
export type ScoreTransform = 'none' | 'softmax' | 'sigmoid';

/** The forward pass followed by the score transform. */
export function scoredForward(forward: ForwardFunction, transform: ScoreTransform): ForwardFunction {
  if (transform === 'softmax') return (x) => tf.softmax(forward(x));
  if (transform === 'sigmoid') return (x) => tf.sigmoid(forward(x));
  return forward;
}
