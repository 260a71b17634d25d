/**
 * The one taped-gradient routine every attribution uses: {@link guardedGradients} (`tf.grads` that
 * leaks nothing when the forward or backward pass throws, names a failing gradient kernel, and skips
 * exactly the filter gradients nobody needs) inside {@link withBackendGapFixesSync}, so the backend-gap
 * fixes and any gradient overrides exist only while this synchronous computation runs: code sharing the
 * tfjs instance while an attribution awaits (e.g. a training loop) never sees them.
 *
 * When a function differentiated by tfjs throws during its forward pass, the tensors tfjs saved for the
 * backward pass are never freed. Here the error is caught inside the taped function, a harmless value
 * connected to every input is returned so tfjs finishes the pass and frees its tape, and the error is
 * rethrown.
 */
import * as tf from '@tensorflow/tfjs-core';
import { guardedGradients, withBackendGapFixesSync, type SyncBackendGapOptions } from './backend-gaps';
import type { MemoryProbe } from './memory-budget';

/** Settings of one taped gradient computation. */
export interface TapeOptions {
  /** Where the forward pass reports its memory peak (sampled right after it, doubled for the backward pass). */
  memory?: MemoryProbe;
  /** The scope's options: gradient overrides (guided rules, DeepLift), the call's kernel cache, constants. */
  scope?: SyncBackendGapOptions;
}

/**
 * `∂f/∂x_k` for a scalar function `f` of `xs`, and what `f` chose to keep (`f` receives a `keep`
 * callback: tensors passed to it survive the tape, e.g. per-row scores). A score that does not depend on
 * an input gets gradient 0 there (instead of tfjs's "cannot compute gradient" error). Errors thrown by
 * `f` propagate without leaking tensors; a failure of the backward pass is a `BackwardPassError`.
 */
export function tapedGradients<K = void>(
  f: (xs: tf.Tensor[], keep: (kept: K) => void) => tf.Scalar,
  xs: readonly tf.Tensor[],
  options: TapeOptions = {},
): { gradients: tf.Tensor[]; kept: K | undefined } {
  let failure: { error: unknown } | null = null;
  let kept: K | undefined;
  const gradients = withBackendGapFixesSync(
    () =>
      guardedGradients(
        (...vs: tf.Tensor[]) => {
          // `0·Σx` keeps every x on the tape whatever f does.
          const anchor = tf.mul(tf.addN(vs.map((v) => tf.sum(v))), 0);
          try {
            const value = f(vs, (k) => (kept = mapTensors(k, tf.keep)));
            options.memory?.sample(2);
            return tf.add(value, anchor);
          } catch (error) {
            failure = { error };
            return anchor;
          }
        },
        [...xs],
      ),
    options.scope,
  );
  if (failure !== null) {
    gradients.forEach((g) => g.dispose());
    disposeKept(kept);
    throw (failure as { error: unknown }).error;
  }
  // Kept tensors escape every tidy; clones (sharing their data) belong to the caller's scope like the gradients.
  return {
    gradients,
    kept: mapTensors(kept, (t) => {
      const clone = tf.clone(t);
      t.dispose();
      return clone;
    }),
  };
}

/** ∂f/∂x for a scalar function of one tensor (see {@link tapedGradients}). */
export function inputGradient(f: (x: tf.Tensor) => tf.Scalar, x: tf.Tensor, scope?: SyncBackendGapOptions): tf.Tensor {
  return tapedGradients(([v]) => f(v), [x], { scope }).gradients[0];
}

function disposeKept(kept: unknown): void {
  mapTensors(kept, (t) => {
    t.dispose();
    return t;
  });
}

/** `value` with every tensor in it (itself, or the entries of an array) replaced by `map(tensor)`. */
function mapTensors<T>(value: T, map: (t: tf.Tensor) => tf.Tensor): T {
  if (value instanceof tf.Tensor) return map(value) as T;
  if (Array.isArray(value)) return value.map((v) => mapTensors(v, map)) as T;
  return value;
}
