import * as tf from '@tensorflow/tfjs-core';
import { exactAvgPoolGradient } from './avg-pool-gradient';
import { BATCH_NORM_GRADIENT } from './batch-norm-gradient';
import { completeBatchNormInputs } from './batch-norm-inputs';
import { clipByValueGradient, relu6Gradient, reluGradient } from './clip-gradients';
import { PIECEWISE_CONSTANT_KERNELS, zeroGradient } from './comparison-gradients';
import { concatGradient } from './concat-gradient';
import { constantFilterGradient, FORWARD_CONVOLUTIONS, noteFilters } from './constant-filters';
import { concatenatedPad } from './concatenated-pad';
import { contiguousSlice } from './contiguous-slice';
import { conv2dBackpropInputKernel } from './conv2d-backprop-input';
import { depthwiseBackpropInputKernel } from './depthwise-backprop-input';
import { dilatedConv2dGradient, dilatedDepthwiseGradient } from './dilated-convolution-gradients';
import { conv2dBackpropFilterKernel, depthwiseBackpropFilterKernel } from './filter-gradients';
import { gradientFix } from './gradient-overrides';
import { maxPoolGradKernel } from './max-pool-grad';
import type { GradientFix, KernelFix } from './registry-slots';
import { resizeNearestNeighborGradKernel } from './resize-nearest-grad';
import { sharedIdentity } from './shared-identity';
import { unsortedSegmentSumKernel } from './unsorted-segment-sum';

/** Backends whose own `MaxPoolGrad` is wrong (all-non-positive windows, tfjs-backend-wasm 4.22). */
const FAULTY_MAX_POOL_GRAD = new Set(['wasm']);
/** Backends whose `ResizeNearestNeighborGrad` is wrong for batches of more than one (tfjs-backend-cpu 4.22). */
const FAULTY_BATCHED_RESIZE_NEAREST_GRAD = new Set(['cpu']);
/**
 * Backends whose `Conv2DBackpropInput` is far slower than their forward `Conv2D` and `BatchMatMul`
 * (tfjs-backend-wasm 4.22).
 */
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

/** Registers `build(backend)` on the backends in `where` (and where the kernel is missing). */
function replacedOn(where: ReadonlySet<string>, kernelName: string, build: (backendName: string) => tf.KernelConfig): KernelFix {
  return {
    kernelName,
    priority: 0,
    install: (original, backendName) =>
      original === undefined || where.has(backendName) ? { config: build(backendName) } : undefined,
  };
}

const depthwiseBackpropInput = whereMissing(tf.DepthwiseConv2dNativeBackpropInput, depthwiseBackpropInputKernel);
const unsortedSegmentSum = whereMissing(tf.UnsortedSegmentSum, unsortedSegmentSumKernel);
const maxPoolGrad = replacedOn(FAULTY_MAX_POOL_GRAD, tf.MaxPoolGrad, maxPoolGradKernel);
/**
 * Exact nearest-neighbour resize gradients: always on cpu, and with `halfPixelCenters` on every backend
 * (tfjs 4.22's cpu and wasm kernels ignore it; the layers of tfjs-layers never set it).
 */
const resizeNearestNeighborGrad: KernelFix = {
  kernelName: tf.ResizeNearestNeighborGrad,
  priority: 0,
  install: (original, backendName) => {
    const exact = resizeNearestNeighborGradKernel(backendName);
    if (original === undefined || FAULTY_BATCHED_RESIZE_NEAREST_GRAD.has(backendName)) return { config: exact };
    return {
      config: {
        ...original,
        kernelFunc: (args) => {
          const { halfPixelCenters } = args.attrs as unknown as tf.ResizeNearestNeighborGradAttrs;
          return halfPixelCenters ? exact.kernelFunc(args) : original.kernelFunc(args);
        },
      },
    };
  },
};

/** NHWC input gradients of convolutions as ordinary ops where that is faster; other formats keep the original. */
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

const batchNormInputs: KernelFix = {
  kernelName: tf.FusedBatchNorm,
  priority: 0,
  install: (original) => (original === undefined ? undefined : completeBatchNormInputs(original)),
};

/** Exact filter gradients outrank the ones that skip constants when scopes with different options overlap. */
const exactConv2dFilter = whereMissing(tf.Conv2DBackpropFilter, conv2dBackpropFilterKernel, 2);
const exactDepthwiseFilter = whereMissing(tf.DepthwiseConv2dNativeBackpropFilter, depthwiseBackpropFilterKernel, 2);
const constantConv2dFilter = constantFilterGradient(tf.Conv2DBackpropFilter);
const constantDepthwiseFilter = constantFilterGradient(tf.DepthwiseConv2dNativeBackpropFilter);
const filterNotes = FORWARD_CONVOLUTIONS.map(noteFilters);

/**
 * The kernel fixes a scope installs, given whether filter gradients may be skipped where the filter is
 * a constant.
 */
export function kernelFixes(skipConstantFilterGradients: boolean): KernelFix[] {
  return [
    depthwiseBackpropInput,
    unsortedSegmentSum,
    maxPoolGrad,
    resizeNearestNeighborGrad,
    conv2dBackpropInput,
    batchNormInputs,
    contiguousSlice,
    concatenatedPad,
    sharedIdentity,
    ...(skipConstantFilterGradients
      ? [...filterNotes, constantConv2dFilter, constantDepthwiseFilter]
      : [exactConv2dFilter, exactDepthwiseFilter]),
  ];
}

/** The gradient fixes every scope installs (a caller's overrides outrank them). */
export const GRADIENT_FIXES: readonly GradientFix[] = [
  gradientFix(tf.AvgPool, exactAvgPoolGradient),
  gradientFix(tf.Conv2D, dilatedConv2dGradient),
  gradientFix(tf.DepthwiseConv2dNative, dilatedDepthwiseGradient),
  gradientFix(tf.FusedBatchNorm, () => BATCH_NORM_GRADIENT),
  gradientFix(tf.ClipByValue, clipByValueGradient),
  gradientFix(tf.Relu6, relu6Gradient),
  gradientFix(tf.Relu, reluGradient),
  gradientFix(tf.Concat, concatGradient),
  ...PIECEWISE_CONSTANT_KERNELS.map((kernelName) => gradientFix(kernelName, zeroGradient(kernelName))),
];

/**
 * The gradient a scope uses for `kernelName` where no override replaces it: the library's fix of
 * `original` (e.g. exact average pooling, ReLU and clipping masks computed with arithmetic), or
 * `original` itself. For overrides that fall back on the ordinary gradient.
 */
export function scopeGradient(kernelName: string, original: tf.GradConfig | undefined): tf.GradConfig | undefined {
  const fix = GRADIENT_FIXES.find((candidate) => candidate.kernelName === kernelName);
  return fix?.install(original)?.config ?? original;
}
