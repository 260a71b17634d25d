/**
 * The input gradient every attribution uses: `tf.grad` with the backend-gap fixes installed for exactly
 * the duration of the (synchronous) gradient computation, so code sharing the tfjs instance while an
 * attribution awaits (e.g. a training loop) never sees the swapped kernels. See
 * {@link withBackendGapFixesSync}.
 *
 * It stays leak-free when the function throws.
 * When a function differentiated by tfjs throws during its forward pass, the tensors tfjs saved for the
 * backward pass are never freed. Here the error is caught inside the taped function, a harmless value
 * connected to `x` is returned so tfjs finishes the pass and frees its tape, and the error is rethrown.
 * When the backward pass fails, {@link guardedGradients} frees the tape and names the failing kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { guardedGradients, withBackendGapFixesSync } from './backend-gaps';

/**
 * ∂f/∂x for a scalar function `f`. A score that does not depend on `x` gets gradient 0 (instead of
 * tfjs's "cannot compute gradient" error). Errors thrown by `f` propagate without leaking tensors; a
 * failure of the backward pass is a {@link BackwardPassError}.
 */
export function inputGradient(f: (x: tf.Tensor) => tf.Scalar, x: tf.Tensor): tf.Tensor {
  let failure: { error: unknown } | null = null;
  const [gradient] = withBackendGapFixesSync(() =>
    guardedGradients(
      (v: tf.Tensor) => {
        // `0·Σx` keeps x on the tape whatever f does.
        const anchor = tf.mul(tf.sum(v), 0);
        try {
          return tf.add(f(v), anchor);
        } catch (error) {
          failure = { error };
          return anchor;
        }
      },
      [x],
    ),
  );
  if (failure !== null) {
    gradient.dispose();
    throw (failure as { error: unknown }).error;
  }
  return gradient;
}
