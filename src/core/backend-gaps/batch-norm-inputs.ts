import * as tf from '@tensorflow/tfjs-core';
import type { Installed } from './registry-slots';

/**
 * Wraps `FusedBatchNorm` so that batch norm without a scale or an offset (tfjs-layers
 * `batchNormalization({ scale: false })` / `({ center: false })`) is differentiable (tfjs issue 2868).
 *
 * Why tfjs 4.22 crashes, and why a new gradient function alone cannot fix it: `tf.batchNorm` passes
 * `{ x, scale: undefined, offset: undefined, mean, variance }` to the kernel, and under a gradient tape
 * the engine (1) clones the `inputsToSave` of `FusedBatchNorm`'s gradient, `scale` among them, and
 * (2) records the inputs object on the tape, whose walk reads `input.id` of every entry; both read a
 * property of `undefined` before any gradient function runs. The engine passes that same inputs object
 * to the kernel and reads it only afterwards, so this wrapper runs the original kernel and then fills
 * the missing entries in place with the identity values (scale 1, offset 0, shaped like the mean).
 * The output is unchanged, and tfjs's own gradient, `dx = dy · scale / √(variance + ε)`, is then exact.
 * The filler tensors are cached per shape and freed when the wrapper is uninstalled.
 */
export function completeBatchNormInputs(original: tf.KernelConfig): Installed<tf.KernelConfig> {
  const fillers = new Map<string, tf.Tensor>();
  const filler = (shape: number[], value: number): tf.Tensor => {
    const key = `${value}:${shape.join('x')}`;
    let tensor = fillers.get(key);
    if (tensor === undefined || tensor.isDisposed) {
      tensor = tf.keep(tf.fill(shape, value));
      fillers.set(key, tensor);
    }
    return tensor;
  };
  return {
    config: {
      ...original,
      kernelFunc: (args) => {
        const output = original.kernelFunc(args);
        const { inputs } = args;
        const meanShape = (inputs.mean as tf.TensorInfo).shape;
        if (inputs.scale == null) inputs.scale = filler(meanShape, 1);
        if (inputs.offset == null) inputs.offset = filler(meanShape, 0);
        return output;
      },
    },
    dispose: () => {
      for (const tensor of fillers.values()) tensor.dispose();
      fillers.clear();
    },
  };
}
