import * as tf from '@tensorflow/tfjs-core';
import { completeBatchNormInputs } from './batch-norm-inputs';
import { depthwiseBackpropInputKernel } from './depthwise-backprop-input';
import { conv2dBackpropFilterKernel, depthwiseBackpropFilterKernel } from './filter-gradients';
import type { KernelFix } from './kernel-slots';
import { maxPoolGradKernel } from './max-pool-grad';
import { unsortedSegmentSumKernel } from './unsorted-segment-sum';
import { type FilterGradientKernel, zeroFilterGradientKernel } from './zero-filter-gradients';

/** Backends whose own `MaxPoolGrad` is wrong (all-non-positive windows, tfjs-backend-wasm 4.22). */
const FAULTY_MAX_POOL_GRAD = new Set(['wasm']);

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
    batchNorm,
    ...(zeroFilterGradients ? [zeroConv2dFilter, zeroDepthwiseFilter] : [exactConv2dFilter, exactDepthwiseFilter]),
  ];
}
