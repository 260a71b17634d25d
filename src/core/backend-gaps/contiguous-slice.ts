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

/** tfjs-backend-cpu's `Slice`, with slices that are not contiguous copied piece by piece. */
export const contiguousSlice: KernelFix = {
  kernelName: tf.Slice,
  priority: 0,
  install: (original, backendName) => {
    if (original === undefined || backendName !== 'cpu') return undefined;
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
