import * as tf from '@tensorflow/tfjs-core';
import { conv2dBackpropFilterKernel, depthwiseBackpropFilterKernel } from './filter-gradients';
import type { KernelFix } from './registry-slots';
import { isConstantData, onAllScopesClosed } from './scope-context';
import { type FilterGradientKernel, zeroFilterGradientKernel } from './zero-filter-gradients';

/**
 * Filter gradients skipped only where the filter is a constant.
 *
 * Attributions differentiate with respect to the input, and autodiff asks for a convolution's filter
 * gradient only where the filter depends on the input, except through tfjs's fused convolutions:
 * `tf.fused.conv2d` / `tf.fused.depthwiseConv2d` (every tfjs-layers `conv2d` with a linear activation,
 * GraphModels' fused convolutions) compute the filter gradient eagerly inside their custom gradient,
 * which costs most of an input gradient's time (bench/backend-gaps.ts).
 *
 * The filter-gradient kernels cannot see which convolution they serve: they get the convolution's input
 * `x` (the tensor the forward pass saved, which shares its data) and `dy`. So inside the scope every
 * forward convolution kernel notes, per input data, whether all the filters it met were constants (see
 * {@link isConstantData}); the filter-gradient kernel answers zeros only when that holds, and computes
 * the exact gradient otherwise (e.g. a template-matching function whose filter is a slice of `x`).
 */
let onlyConstantFilters = new WeakMap<object, boolean>();
onAllScopesClosed(() => {
  onlyConstantFilters = new WeakMap();
});

/** The forward convolution kernels and the name of their filter input. */
export const FORWARD_CONVOLUTIONS = [tf.Conv2D, tf.FusedConv2D, tf.DepthwiseConv2dNative, tf.FusedDepthwiseConv2D];

/** Wraps a forward convolution kernel so that it notes whether its filter was a constant. */
export function noteFilterConstancy(kernelName: string): KernelFix {
  return {
    kernelName,
    priority: 0,
    install: (original) =>
      original === undefined
        ? undefined
        : {
            config: {
              ...original,
              kernelFunc: (args) => {
                const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
                const constant = isConstantData(filter.dataId);
                onlyConstantFilters.set(x.dataId, constant && onlyConstantFilters.get(x.dataId) !== false);
                return original.kernelFunc(args);
              },
            },
          },
  };
}

/**
 * A filter-gradient kernel that answers zeros where every convolution of `x` in the scope had a
 * constant filter, and the exact gradient otherwise: the backend's own kernel, or the one built from
 * ordinary ops where the backend lacks it (tfjs-backend-wasm 4.22).
 */
export function constantFilterGradient(kernelName: FilterGradientKernel): KernelFix {
  const exact = kernelName === tf.Conv2DBackpropFilter ? conv2dBackpropFilterKernel : depthwiseBackpropFilterKernel;
  return {
    kernelName,
    priority: 1,
    install: (original, backendName) => {
      const zeros = zeroFilterGradientKernel(kernelName, backendName);
      const computed = original ?? exact(backendName);
      return {
        config: {
          ...computed,
          kernelFunc: (args) => {
            const x = args.inputs.x as tf.TensorInfo;
            return onlyConstantFilters.get(x.dataId) === true ? zeros.kernelFunc(args) : computed.kernelFunc(args);
          },
        },
      };
    },
  };
}
