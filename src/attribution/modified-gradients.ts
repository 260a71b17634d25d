/** Evaluators whose gradients run with modified backward rules (guided backpropagation, deconvolution, DeepLift). */
import type { GradientOverride } from '../core/backend-gaps';
import type { Evaluator } from '../core/evaluate';

/**
 * `evaluator` with `gradients` replacing tfjs's gradients of their kernels, inside each chunk's
 * synchronous gradient scope only: no other code (a training loop, the user's own `tf.grad`) ever sees them.
 */
export function withGradientOverrides(evaluator: Evaluator, gradients: readonly GradientOverride[]): Evaluator {
  return { ...evaluator, scope: { ...evaluator.scope, gradients: [...(evaluator.scope?.gradients ?? []), ...gradients] } };
}
