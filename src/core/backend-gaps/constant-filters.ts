/**
 * Filter gradients skipped only where the filter is a constant of the gradient computation.
 *
 * Attributions differentiate with respect to the input, and autodiff asks for a convolution's filter
 * gradient only where the filter depends on the input, except through tfjs's fused convolutions:
 * `tf.fused.conv2d` / `tf.fused.depthwiseConv2d` (every tfjs-layers `conv2d` with a linear activation,
 * GraphModels' fused convolutions) compute the filter gradient eagerly inside their custom gradient,
 * which costs most of an input gradient's time (bench/backend-gaps.ts; 108 s of 111 s for a saliency of
 * the emotion GraphModel on cpu).
 *
 * The filter-gradient kernels cannot see which convolution they serve: they get the convolution's input
 * `x` (the tensor the forward pass saved, which shares its data) and `dy`. So inside the scope every
 * forward convolution kernel notes, per input data, the filters it met; the filter-gradient kernel
 * answers zeros when none of them depends on the differentiated inputs, and computes the exact gradient
 * otherwise (e.g. a template-matching function whose filter is a slice of `x`). A filter depends on the
 * inputs when it is one of them or the output of a recorded operation on an input's path, which
 * {@link markInputDependence} reads off the tape at the end of the forward pass ({@link guardedGradients}
 * does so). Without that information (a plain `tf.grad` inside the scope), only the filters known to be
 * constant are skipped: registered `tf.Variable`s and the scope's `constants` (see {@link isConstantData}).
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { tapeState } from './engine-tape';
import { conv2dBackpropFilterKernel, depthwiseBackpropFilterKernel } from './filter-gradients';
import type { KernelFix } from './registry-slots';
import { isConstantData, onAllScopesClosed } from './scope-context';
import { type FilterGradientKernel, zeroFilterGradientKernel } from './zero-filter-gradients';

/** Per input data of a convolution in the open scopes, the data of the filters it met. */
let filtersByInput = new WeakMap<object, Set<object>>();
onAllScopesClosed(() => {
  filtersByInput = new WeakMap();
});

/** The data computed from the inputs of each gradient computation running now (nested ones included). */
const dependentData: Set<object>[] = [];

/**
 * Records, from the active tape, which tensor data the differentiated function computed from `xs`
 * (the inputs themselves, and the outputs of every recorded operation with such an input), until the
 * returned function is called. Call it at the end of the differentiated function.
 */
export function markInputDependence(xs: readonly tf.Tensor[]): () => void {
  const ids = new Set(xs.map((x) => x.id));
  const data = new Set<object>(xs.map((x) => x.dataId));
  for (const node of tapeState().activeTape ?? []) {
    if (!Object.values(node.inputs).some((input) => input !== undefined && ids.has(input.id))) continue;
    for (const output of node.outputs) {
      ids.add(output.id);
      data.add(output.dataId);
    }
  }
  dependentData.push(data);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    dependentData.splice(dependentData.lastIndexOf(data), 1);
  };
}

/** Whether the filter data `filter` is a constant of every gradient computation running now. */
function isConstantFilter(filter: object): boolean {
  if (dependentData.length === 0) return isConstantData(filter);
  return dependentData.every((data) => !data.has(filter));
}

/** The forward convolution kernels. */
export const FORWARD_CONVOLUTIONS = [tf.Conv2D, tf.FusedConv2D, tf.DepthwiseConv2dNative, tf.FusedDepthwiseConv2D];

/** Wraps a forward convolution kernel so that it notes which filter met which input. */
export function noteFilters(kernelName: string): KernelFix {
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
                let filters = filtersByInput.get(x.dataId);
                if (filters === undefined) filtersByInput.set(x.dataId, (filters = new Set()));
                filters.add(filter.dataId);
                return original.kernelFunc(args);
              },
            },
          },
  };
}

/**
 * A filter-gradient kernel that answers zeros where every filter that met `x` in the scope is a
 * constant, and the exact gradient otherwise: the backend's own kernel, or the one built from ordinary
 * ops where the backend lacks it (tfjs-backend-wasm 4.22).
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
            const filters = filtersByInput.get((args.inputs.x as tf.TensorInfo).dataId);
            const skip = filters !== undefined && [...filters].every(isConstantFilter);
            return skip ? zeros.kernelFunc(args) : computed.kernelFunc(args);
          },
        },
      };
    },
  };
}
