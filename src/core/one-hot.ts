/** One-hot rows as float32, portable across backends. */
import * as tf from '@tensorflow/tfjs-core';

/**
 * `[indices.length, depth]` float32 one-hot rows. Built as int32 and cast: tfjs-backend-wasm 4.22's
 * OneHot kernel writes integer bit patterns into float32 outputs (1 becomes 1.4e-45).
 */
export function oneHotRows(indices: Int32Array, depth: number): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(indices, 'int32'), depth), 'float32') as tf.Tensor2D);
}
