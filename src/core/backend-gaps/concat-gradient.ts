import * as tf from '@tensorflow/tfjs-core';
import type { GradientDefinition } from './gradient-overrides';

/** Backends whose `SplitV` copies slices that are not contiguous element by element (tfjs-backend-cpu 4.22). */
const SLOW_SPLIT = new Set(['cpu']);

/**
 * The gradient of `Concat`, `dx_k = dy[…, o_k : o_k + n_k, …]` along the concatenation axis, as one
 * `tf.slice` per input. tfjs's own splits `dy` with `SplitV`, whose tfjs-backend-cpu kernel calls its
 * slice kernel directly, past the piecewise `Slice` of the same scope (`contiguous-slice.ts`): the
 * gradient of a concatenation along a spatial axis (a zero padding written as one) copies element by
 * element there, about 20× slower. Other backends keep tfjs's own.
 */
export function concatGradient(original: tf.GradConfig | undefined): GradientDefinition | undefined {
  if (original === undefined) return undefined;
  return {
    ...original,
    gradFunc: (dy, saved, attrs) => {
      if (!SLOW_SPLIT.has(tf.getBackend())) return original.gradFunc(dy, saved, attrs);
      const g = dy as tf.Tensor;
      const axis = tf.util.parseAxisParam((attrs as unknown as tf.ConcatAttrs).axis, saved[0].shape)[0];
      let offset = 0;
      const gradients: Record<string, () => tf.Tensor> = {};
      saved.forEach((input, k) => {
        const begin = g.shape.map((_, d) => (d === axis ? offset : 0));
        offset += input.shape[axis];
        gradients[k] = () => tf.slice(g, begin, input.shape);
      });
      return gradients;
    },
  };
}
