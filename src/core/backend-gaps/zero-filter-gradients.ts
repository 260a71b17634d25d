import * as tf from '@tensorflow/tfjs-core';
import { opKernel } from './op-kernel';

/** The kernels that compute a convolution's filter gradient. */
export type FilterGradientKernel = typeof tf.Conv2DBackpropFilter | typeof tf.DepthwiseConv2dNativeBackpropFilter;

/**
 * A filter-gradient kernel that answers zeros of the filter's shape without reading its inputs: what
 * the filter-gradient kernels answer for convolutions whose filter is a constant (see
 * `constant-filters.ts`).
 */
export function zeroFilterGradientKernel(kernelName: FilterGradientKernel, backendName: string): tf.KernelConfig {
  return opKernel(kernelName, backendName, (_inputs, attrs) => {
    const { filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    return tf.zeros(filterShape);
  });
}
