import * as tf from '@tensorflow/tfjs-core';
import type { KernelFix } from './registry-slots';

/** Backends whose `Identity` copies the data (tfjs-backend-wasm 4.22). */
const COPYING_IDENTITY = new Set(['wasm']);

/**
 * `Identity` (`tf.clone`) that shares its input's data, as the cpu and webgl backends' own kernels and
 * every backend's `Reshape` do, instead of copying it. tfjs clones every tensor it saves for the
 * backward pass (the inputs and outputs a gradient asks for), so on tfjs-backend-wasm 4.22 a gradient
 * tape copied every saved activation, about 5 % of a MobileNetV2 saliency. Sharing also keeps the saved
 * tensors on the same data as the forward pass's, which is how the filter-gradient kernels recognise the
 * input of a convolution whose filter is a constant (see `constant-filters.ts`).
 */
export const sharedIdentity: KernelFix = {
  kernelName: tf.Identity,
  priority: 0,
  install: (original, backendName) =>
    original === undefined || !COPYING_IDENTITY.has(backendName)
      ? undefined
      : {
          config: {
            ...original,
            kernelFunc: (args) => {
              const x = args.inputs.x as tf.TensorInfo;
              if (x.dtype === 'string') return original.kernelFunc(args);
              (args.backend as tf.KernelBackend).incRef(x.dataId);
              return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
            },
          },
        },
};
