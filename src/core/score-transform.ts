/** The transforms the perturbation methods and metrics can apply to the model output before the target picks its score. */
import * as tf from '@tensorflow/tfjs-core';
import type { Evaluator } from './evaluate';

/**
 * A score transform: `'none'` (the output as it is, e.g. a logit), `'softmax'` (over the last axis: the
 * probability of the target) or `'sigmoid'`.
 */
export type ScoreTransform = 'none' | 'softmax' | 'sigmoid';

/** The score transforms, for validation. */
export const SCORE_TRANSFORMS = ['none', 'softmax', 'sigmoid'] as const satisfies readonly ScoreTransform[];

/** `evaluator` with its model's output passed through `transform` before the target picks the score. */
export function scoredEvaluator(evaluator: Evaluator, transform: ScoreTransform): Evaluator {
  if (transform === 'none') return evaluator;
  const apply = transform === 'softmax' ? tf.softmax : tf.sigmoid;
  const model = evaluator.model;
  return { ...evaluator, model: { ...model, forward: (inputs) => apply(model.forward(inputs)) } };
}
