import * as tf from '@tensorflow/tfjs-core';
import { opKernel } from './op-kernel';
import { transposedMatMul } from '../transposed-matmul';

/**
 * The source index of every output row (or column) of a nearest-neighbour resize from `inSize` to
 * `outSize`, read off the backend's own forward kernel by resizing the indices themselves, so the
 * gradient is the exact transpose of the forward pass whatever its rounding rules (`alignCorners`,
 * `halfPixelCenters`).
 */
function sourceIndices(inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): tf.Tensor1D {
  const indices = tf.reshape(tf.range(0, inSize), [1, inSize, 1, 1]) as tf.Tensor4D;
  const resized = tf.image.resizeNearestNeighbor(indices, [outSize, 1], alignCorners, halfPixelCenters);
  return tf.cast(tf.reshape(resized, [outSize]), 'int32') as tf.Tensor1D;
}

/**
 * `ResizeNearestNeighborGrad` (the gradient of `tf.image.resizeNearestNeighbor`, tfjs-layers'
 * `upSampling2d` and `resizing` layers), replacing tfjs-backend-cpu 4.22's kernel, which offsets `dy`
 * by the input's batch stride instead of its own (wrong for every example after the first), and the
 * kernels that ignore `halfPixelCenters` (cpu's and wasm's).
 *
 * The forward pass copies `x[n, r(o), c(p), d]` to `y[n, o, p, d]`, so
 * `dx[n, h, w, d] = Σ_{o : r(o) = h} Σ_{p : c(p) = w} dy[n, o, p, d]`: with the one-hot matrices
 * `R[o, h] = 1[r(o) = h]` and `C[p, w] = 1[c(p) = w]` that is `Rᵀ · dy[n] · C` over the two spatial axes,
 * two batched matrix products.
 */
export function resizeNearestNeighborGradKernel(backendName: string): tf.KernelConfig {
  return opKernel(tf.ResizeNearestNeighborGrad, backendName, ({ images, dy }, attrs) => {
    const { alignCorners, halfPixelCenters } = attrs as unknown as tf.ResizeNearestNeighborGradAttrs;
    const [batch, inHeight, inWidth, depth] = images.shape;
    const [, outHeight, outWidth] = dy.shape;
    const oneHot = (indices: tf.Tensor1D, size: number) => tf.expandDims(tf.cast(tf.oneHot(indices, size), 'float32'), 0);
    // [1, outH, inH]ᵀ × [batch, outH, outW·depth] → [batch, inH, outW·depth]
    const rows = oneHot(sourceIndices(inHeight, outHeight, alignCorners, halfPixelCenters), inHeight);
    const alongRows = transposedMatMul(rows, tf.reshape(dy, [batch, outHeight, outWidth * depth]));
    // [1, outW, inW]ᵀ × [batch·inH, outW, depth] → [batch·inH, inW, depth]
    const cols = oneHot(sourceIndices(inWidth, outWidth, alignCorners, halfPixelCenters), inWidth);
    const alongCols = transposedMatMul(cols, tf.reshape(alongRows, [batch * inHeight, outWidth, depth]));
    return tf.reshape(alongCols, [batch, inHeight, inWidth, depth]);
  });
}
