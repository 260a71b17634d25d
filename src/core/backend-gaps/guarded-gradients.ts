import * as tf from '@tensorflow/tfjs-core';
import { labelTape, watchTape } from './backward-failure';
import { markInputDependence } from './constant-filters';

/**
 * `tf.grads(f)(xs, dy)` for the gradient scope ({@link withBackendGapFixesSync}):
 * - it leaks nothing when the forward or backward pass throws, and reports a failed gradient function
 *   as a {@link index!BackwardPassError} (exported from `tfjs-glassbox`) naming the kernel;
 * - at the end of the forward pass it notes which tensors `f` computed from `xs`, so that convolutions
 *   skip exactly the filter gradients nobody needs: those of filters that do not depend on `xs` (model
 *   weights, whether `tf.Variable`s or a GraphModel's plain tensors), while a filter computed from `xs`
 *   keeps an exact gradient (see `constant-filters.ts`).
 * `f` must return a scalar (or pass `dy`).
 */
export function guardedGradients(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor): tf.Tensor[] {
  const release = watchTape();
  let unmark = (): void => undefined;
  try {
    return tf.grads((...vs: tf.Tensor[]) => {
      const y = f(...vs);
      labelTape();
      unmark = markInputDependence(vs);
      return y;
    })(xs, dy);
  } catch (error) {
    throw release(error);
  } finally {
    unmark();
  }
}
