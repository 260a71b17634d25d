import * as tf from '@tensorflow/tfjs-core';
import type { GradientDefinition } from './gradient-overrides';

/**
 * Kernels whose output is piecewise constant in their inputs (comparisons, logical operations, boolean
 * reductions) and that tfjs 4.22 registers no gradient for. Their derivative is zero almost everywhere,
 * but without a registered gradient any tape through them fails ("gradient function not found for
 * Greater"): tfjs-layers' `thresholdedReLU` computes `x · cast(x > θ)` and fails that way.
 */
export const PIECEWISE_CONSTANT_KERNELS = [
  tf.Equal,
  tf.NotEqual,
  tf.Greater,
  tf.Less,
  tf.LessEqual,
  tf.LogicalAnd,
  tf.LogicalOr,
  tf.LogicalXor,
  tf.LogicalNot,
  tf.All,
  tf.Any,
] as const;

/** The names of each kernel's tensor inputs. */
const INPUTS: Record<(typeof PIECEWISE_CONSTANT_KERNELS)[number], string[]> = {
  [tf.Equal]: ['a', 'b'],
  [tf.NotEqual]: ['a', 'b'],
  [tf.Greater]: ['a', 'b'],
  [tf.Less]: ['a', 'b'],
  [tf.LessEqual]: ['a', 'b'],
  [tf.LogicalAnd]: ['a', 'b'],
  [tf.LogicalOr]: ['a', 'b'],
  [tf.LogicalXor]: ['a', 'b'],
  [tf.LogicalNot]: ['x'],
  [tf.All]: ['x'],
  [tf.Any]: ['x'],
};

/**
 * A zero gradient (float32 zeros shaped like each input) for a piecewise-constant kernel that has no
 * gradient; a kernel that has one keeps it.
 */
export function zeroGradient(kernelName: (typeof PIECEWISE_CONSTANT_KERNELS)[number]) {
  return (original: tf.GradConfig | undefined): GradientDefinition | undefined => {
    if (original !== undefined) return undefined;
    const inputs = INPUTS[kernelName];
    return {
      inputsToSave: inputs,
      gradFunc: (_dy, saved) => Object.fromEntries(inputs.map((name, i) => [name, () => tf.zeros(saved[i].shape)])),
    };
  };
}
