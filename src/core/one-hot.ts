/** One-hot rows as float32, portable across backends. */
import * as tf from '@tensorflow/tfjs-core';

/**
 * `[indices.length, depth]` float32 one-hot rows. Built as int32 and cast: tfjs-backend-wasm 4.22's
 * OneHot kernel writes integer bit patterns into float32 outputs (1 becomes 1.4e-45). Depth 1 (a model
 * with one output, a chunk of one example), which `tf.oneHot` refuses, gives a column of ones.
 */
export function oneHotRows(indices: Int32Array, depth: number): tf.Tensor2D {
  if (depth === 1) return tf.ones([indices.length, 1]);
  return tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(indices, 'int32'), depth), 'float32') as tf.Tensor2D);
}
