import * as tf from '@tensorflow/tfjs-core';
import { opKernel } from './op-kernel';
import type { KernelFix } from './registry-slots';

/** Below this many elements per contiguous piece, the backend's own element-wise copy is kept. */
const MIN_PIECE_SIZE = 32;

/**
 * How a slice splits into contiguous pieces: one piece per index of the axes before the last axis that
 * is cut (`begin > 0` or a smaller size), each piece a contiguous run of the flat input.
 */
function pieces(shape: number[], begin: number[], size: number[]): { axis: number; count: number } {
  let axis = 0;
  for (let i = 0; i < shape.length; i++) if (begin[i] > 0 || size[i] !== shape[i]) axis = i;
  let count = 1;
  for (let i = 0; i < axis; i++) count *= size[i];
  return { axis, count };
}

/**
 * A `Slice` that copies contiguous pieces, for tfjs-backend-cpu 4.22, whose kernel copies a slice that
 * is not one contiguous run element by element through index arrays: cropping one row and column off a
 * 113×113×96 gradient (the gradient of a `zeroPadding2d`) takes about 1 s there, the same crop as 112
 * contiguous row slices and one concatenation about 5 ms. The pieces are the slices with the leading
 * axes fixed (see {@link pieces}); each is contiguous, so the backend's kernel answers it with a view.
 */
function piecewiseSliceKernel(backendName: string): tf.KernelConfig {
  return opKernel(tf.Slice, backendName, ({ x }, attrs) => {
    const { begin: rawBegin, size: rawSize } = attrs as unknown as tf.SliceAttrs;
    const [begin, size] = tf.slice_util.parseSliceParams(x, rawBegin, rawSize);
    const { axis, count } = pieces(x.shape, begin, size);
    const index = new Array<number>(axis).fill(0);
    const parts: tf.Tensor[] = [];
    for (let p = 0; p < count; p++) {
      const pieceBegin = [...index.map((i, d) => begin[d] + i), ...begin.slice(axis)];
      const pieceSize = [...index.map(() => 1), ...size.slice(axis)];
      parts.push(tf.reshape(tf.slice(x, pieceBegin, pieceSize), [1, ...size.slice(axis)]));
      for (let d = axis - 1; d >= 0; d--) {
        if (++index[d] < size[d]) break;
        index[d] = 0;
      }
    }
    return tf.reshape(tf.concat(parts, 0), size);
  });
}

/**
 * A `Slice` whose trailing whole axes (after the last axis it cuts) are merged into that axis, for
 * tfjs-backend-wasm 4.22, whose kernel copies each run of the innermost axis on its own: cropping a
 * 225×225×3 gradient (of a zero padding before the first convolution) takes 7 ms there in runs of 3,
 * as a slice of rank 3 (runs of 672) 0.1 ms.
 */
function mergedAxesSliceKernel(backendName: string): tf.KernelConfig {
  return opKernel(tf.Slice, backendName, ({ x }, attrs) => {
    const { begin: rawBegin, size: rawSize } = attrs as unknown as tf.SliceAttrs;
    const [begin, size] = tf.slice_util.parseSliceParams(x, rawBegin, rawSize);
    const { axis } = pieces(x.shape, begin, size);
    const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    const merged = tf.reshape(x, [...x.shape.slice(0, axis), x.shape[axis] * inner]);
    const cut = tf.slice(merged, [...begin.slice(0, axis), begin[axis] * inner], [...size.slice(0, axis), size[axis] * inner]);
    return tf.reshape(cut, size);
  });
}

/**
 * tfjs-backend-cpu's `Slice`, with slices that are not contiguous copied piece by piece; on wasm, with
 * the trailing whole axes merged.
 */
export const contiguousSlice: KernelFix = {
  kernelName: tf.Slice,
  priority: 0,
  install: (original, backendName) => {
    if (original === undefined) return undefined;
    if (backendName === 'wasm') return { config: withMergedAxes(original, mergedAxesSliceKernel(backendName)) };
    if (backendName !== 'cpu') return undefined;
    const piecewise = piecewiseSliceKernel(backendName);
    return {
      config: {
        ...original,
        kernelFunc: (args) => {
          const x = args.inputs.x as tf.TensorInfo;
          const { begin: rawBegin, size: rawSize } = args.attrs as unknown as tf.SliceAttrs;
          const [begin, size] = tf.slice_util.parseSliceParams(x, rawBegin, rawSize);
          const total = size.reduce((a, b) => a * b, 1);
          const { count } = pieces(x.shape, begin, size);
          const worthIt = x.dtype !== 'string' && count > 1 && total >= count * MIN_PIECE_SIZE;
          return worthIt && !tf.slice_util.isSliceContinous(x.shape, begin, size)
            ? piecewise.kernelFunc(args)
            : original.kernelFunc(args);
        },
      },
    };
  },
};

/** `original`, with the slices of {@link mergedAxesSliceKernel} (non-contiguous, with trailing whole axes) routed to `merged`. */
function withMergedAxes(original: tf.KernelConfig, merged: tf.KernelConfig): tf.KernelConfig {
  return {
    ...original,
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      const { begin: rawBegin, size: rawSize } = args.attrs as unknown as tf.SliceAttrs;
      const [begin, size] = tf.slice_util.parseSliceParams(x, rawBegin, rawSize);
      const { axis } = pieces(x.shape, begin, size);
      const mergeable = x.dtype !== 'string' && axis < x.shape.length - 1 && !tf.slice_util.isSliceContinous(x.shape, begin, size);
      return mergeable ? merged.kernelFunc(args) : original.kernelFunc(args);
    },
  };
}
