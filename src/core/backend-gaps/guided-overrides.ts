/**
 * Modified ReLU backward passes as {@link GradientOverride}s, for {@link withBackendGapFixesSync}'s
 * `gradients` option: guided backpropagation (Springenberg et al. 2015, "Striving for simplicity"),
 * deconvolution (Zeiler & Fergus 2014) and the guided non-linearity of guided Integrated Gradients
 * (Kwon, Koo, Cho 2020). With `g` the incoming gradient and `x` the activation's input:
 *
 * | kernel | gradient | guided | deconvolution |
 * |---|---|---|---|
 * | `Relu` | `g·1[x>0]` | `relu(g)·1[x>0]` | `relu(g)` |
 * | `Relu6` | `g·1[0<x≤6]` | `relu(g)·1[0<x≤6]` | `relu(g)·1[x≤6]` |
 * | `MaxPool` (opt-in) | `g` routed to each window's maximum | `relu(g)` routed likewise | — |
 *
 * ReLU6 is read as `min(relu(x), 6)`: the rectifier gets the modified rule, the clipping at 6 keeps its
 * ordinary gradient (so a tfjs-layers `reLU({ maxValue: 6 })`, which runs `Relu` then `ClipByValue`,
 * gets the same result as a `Relu6` kernel). Under a gradient tape tfjs runs the activations fused into
 * Dense/Conv layers as separate kernels, so those are covered too.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradientOverride, GradientDefinition } from './gradient-overrides';

/** `1[x ≤ 6]` as float32. */
const belowSix = (x: tf.Tensor): tf.Tensor => tf.cast(tf.lessEqual(x, 6), 'float32');

/** A rule reading the kernel's input `x`: `dx = rule(dy, x)`. */
function onInput(kernelName: string, rule: (dy: tf.Tensor, x: tf.Tensor) => tf.Tensor): GradientOverride {
  const gradient: GradientDefinition = {
    inputsToSave: ['x'],
    gradFunc: (dy, [x]) => ({ x: () => rule(dy as tf.Tensor, x) }),
  };
  return { kernelName, gradient: () => gradient };
}

/**
 * Max pooling's own gradient applied to `relu(g)`: only positive gradients are routed back to the
 * window maxima (the guided rule of Kwon et al.'s guided IG). Keeps the gradient as it is if tfjs has
 * none registered.
 */
const positiveMaxPool: GradientOverride = {
  kernelName: tf.MaxPool,
  gradient: (original) =>
    original && {
      ...original,
      gradFunc: (dy, saved, attrs) => original.gradFunc(tf.relu(dy as tf.Tensor), saved, attrs),
    },
};

/** Options of {@link guidedOverrides}. */
export interface GuidedOverrideOptions {
  /**
   * Also guide max pooling (`relu(g)` routed to the maxima), as guided Integrated Gradients does.
   * Default `false`: guided backpropagation modifies the ReLUs only.
   */
  maxPool?: boolean;
}

/** Guided backpropagation's ReLU and ReLU6 rules (and max pooling's, with `maxPool: true`). */
export function guidedOverrides(options: GuidedOverrideOptions = {}): GradientOverride[] {
  const overrides = [
    onInput(tf.Relu, (dy, x) => tf.mul(tf.relu(dy), tf.step(x))),
    onInput(tf.Relu6, (dy, x) => tf.mul(tf.relu(dy), tf.mul(tf.step(x), belowSix(x)))),
  ];
  return options.maxPool === true ? [...overrides, positiveMaxPool] : overrides;
}

/** Deconvolution's ReLU and ReLU6 rules: the incoming gradient rectified, whatever the input's sign. */
export function deconvolutionOverrides(): GradientOverride[] {
  const relu: GradientOverride = {
    kernelName: tf.Relu,
    gradient: () => ({ gradFunc: (dy) => ({ x: () => tf.relu(dy as tf.Tensor) }) }),
  };
  return [relu, onInput(tf.Relu6, (dy, x) => tf.mul(tf.relu(dy), belowSix(x)))];
}
