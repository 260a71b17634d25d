import * as tf from '@tensorflow/tfjs-core';
import { opKernel } from './op-kernel';

/**
 * The kernels that compute a convolution's filter gradient. Attributions need gradients with respect
 * to the input only, and autodiff never asks for these on that path, except through tfjs's fused
 * convolution: `tf.fused.conv2d` (every tfjs-layers `conv2d` with a linear activation under a gradient
 * tape) computes its filter gradient eagerly inside its custom gradient, whether anyone needs it or not,
 * and that dominates the input gradient's cost: d/dx of a MobileNetV2-like stack at 224×224, batch 1
 * (`bench/backend-gaps.ts`) takes 54 s with exact filter gradients and 4.8 s with zeros on cpu, 4.7 s
 * and 1.2 s on wasm.
 */
export type FilterGradientKernel = typeof tf.Conv2DBackpropFilter | typeof tf.DepthwiseConv2dNativeBackpropFilter;

/**
 * A filter-gradient kernel that answers zeros of the filter's shape without reading its inputs. Only
 * correct while nobody needs filter gradients, hence installed only inside an attribution scope.
 */
export function zeroFilterGradientKernel(kernelName: FilterGradientKernel, backendName: string): tf.KernelConfig {
  return opKernel(kernelName, backendName, (_inputs, attrs) => {
    const { filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    return tf.zeros(filterShape);
  });
}
