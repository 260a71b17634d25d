import * as tf from '@tensorflow/tfjs-core';
import { completeBatchNormInputs } from './batch-norm-inputs';
import { conv2dBackpropInputKernel } from './conv2d-backprop-input';
import { depthwiseBackpropInputKernel } from './depthwise-backprop-input';
import { conv2dBackpropFilterKernel, depthwiseBackpropFilterKernel } from './filter-gradients';
import type { KernelFix } from './kernel-slots';
import { maxPoolGradKernel } from './max-pool-grad';
import { unsortedSegmentSumKernel } from './unsorted-segment-sum';
import { type FilterGradientKernel, zeroFilterGradientKernel } from './zero-filter-gradients';

/** Backends whose own `MaxPoolGrad` is wrong (all-non-positive windows, tfjs-backend-wasm 4.22). */
const FAULTY_MAX_POOL_GRAD = new Set(['wasm']);
/** Backends whose `Conv2DBackpropInput` is far slower than their forward `Conv2D` (tfjs-backend-wasm 4.22). */
const SLOW_CONV2D_BACKPROP_INPUT = new Set(['wasm']);

/** Registers `build(backend)` where the backend has no such kernel, keeps the backend's own otherwise. */
function whereMissing(
  kernelName: string,
  build: (backendName: string) => tf.KernelConfig,
  priority = 0,
): KernelFix {
  return {
    kernelName,
    priority,
    install: (original, backendName) => (original === undefined ? { config: build(backendName) } : undefined),
  };
}

const depthwiseBackpropInput = whereMissing(tf.DepthwiseConv2dNativeBackpropInput, depthwiseBackpropInputKernel);
const unsortedSegmentSum = whereMissing(tf.UnsortedSegmentSum, unsortedSegmentSumKernel);

const maxPoolGrad: KernelFix = {
  kernelName: tf.MaxPoolGrad,
  priority: 0,
  install: (original, backendName) =>
    original === undefined || FAULTY_MAX_POOL_GRAD.has(backendName)
      ? { config: maxPoolGradKernel(backendName) }
      : undefined,
};

/** NHWC input gradients through the forward convolution where that is faster; other formats keep the original. */
const conv2dBackpropInput: KernelFix = {
  kernelName: tf.Conv2DBackpropInput,
  priority: 0,
  install: (original, backendName) => {
    if (original === undefined || !SLOW_CONV2D_BACKPROP_INPUT.has(backendName)) return undefined;
    const replacement = conv2dBackpropInputKernel(backendName);
    return {
      config: {
        ...original,
        kernelFunc: (args) => {
          const format = (args.attrs as unknown as tf.Conv2DBackpropInputAttrs | undefined)?.dataFormat ?? 'NHWC';
          return format === 'NHWC' ? replacement.kernelFunc(args) : original.kernelFunc(args);
        },
      },
    };
  },
};

const batchNorm: KernelFix = {
  kernelName: tf.FusedBatchNorm,
  priority: 0,
  install: (original) => (original === undefined ? undefined : completeBatchNormInputs(original)),
};

/** Exact filter gradients outrank zero ones when scopes with different options overlap. */
const exactConv2dFilter = whereMissing(tf.Conv2DBackpropFilter, conv2dBackpropFilterKernel, 2);
const exactDepthwiseFilter = whereMissing(tf.DepthwiseConv2dNativeBackpropFilter, depthwiseBackpropFilterKernel, 2);
const zeroFilter = (kernelName: FilterGradientKernel): KernelFix => ({
  kernelName,
  priority: 1,
  install: (_original, backendName) => ({ config: zeroFilterGradientKernel(kernelName, backendName) }),
});
const zeroConv2dFilter = zeroFilter(tf.Conv2DBackpropFilter);
const zeroDepthwiseFilter = zeroFilter(tf.DepthwiseConv2dNativeBackpropFilter);

/** The kernel fixes an attribution scope installs, given whether filter gradients may be zero. */
export function backendGapFixes(zeroFilterGradients: boolean): KernelFix[] {
  return [
    depthwiseBackpropInput,
    unsortedSegmentSum,
    maxPoolGrad,
    conv2dBackpropInput,
    batchNorm,
    ...(zeroFilterGradients ? [zeroConv2dFilter, zeroDepthwiseFilter] : [exactConv2dFilter, exactDepthwiseFilter]),
  ];
}
