import * as tf from '@tensorflow/tfjs-core';

/** Computes a kernel's output from its inputs (as ordinary tensors) and attributes with tfjs ops. */
export type OpKernelCompute = (inputs: Record<string, tf.Tensor>, attrs: tf.NamedAttrMap) => tf.Tensor;

/**
 * Builds a tfjs kernel (for `tf.registerKernel`) whose output is computed with ordinary tfjs ops on the
 * same backend, so a kernel a backend lacks or gets wrong can be expressed through kernels it has.
 *
 * The engine hands a kernel `TensorInfo`s and expects one back. Each input is wrapped in a tensor that
 * holds its own reference to the input's data (`backend.incRef`), the ops run inside `tf.tidy`, the
 * result's data gets one extra reference that the engine's output tensor takes over, and every wrapper
 * is disposed: the kernel adds exactly one data buffer, its output. Ops that run inside a kernel are not
 * recorded on the gradient tape (the engine's kernel depth is above zero).
 */
export function opKernel(kernelName: string, backendName: string, compute: OpKernelCompute): tf.KernelConfig {
  return {
    kernelName,
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const kernelBackend = backend as tf.KernelBackend;
      const engine = tf.engine();
      const wrapped: Record<string, tf.Tensor> = {};
      try {
        for (const [name, info] of Object.entries(inputs)) {
          if (info == null) continue;
          kernelBackend.incRef(info.dataId);
          wrapped[name] = engine.makeTensorFromTensorInfo(info, kernelBackend);
        }
        const result = tf.tidy(() => compute(wrapped, attrs ?? {}));
        kernelBackend.incRef(result.dataId);
        const output: tf.TensorInfo = { dataId: result.dataId, shape: result.shape, dtype: result.dtype };
        result.dispose();
        return output;
      } finally {
        for (const tensor of Object.values(wrapped)) tensor.dispose();
      }
    },
  };
}
