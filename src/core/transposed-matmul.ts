/**
 * `aᵀ·b` over the last two axes (batched over the leading ones), through an explicit transpose.
 *
 * tfjs-backend-webgl 4.22's packed matMul with `transposeA` reads wrong values when the contracted
 * axis is odd and an operand comes out of another packed op (measured: `[3, 1]` demeaned columns give
 * a Gram matrix off by 1.65; `[5, 3]` by 0.11; `transposeB` is exact). An explicit transpose costs one
 * copy and is exact on every backend, so every `aᵀ·b` of the library goes through here.
 */
import * as tf from '@tensorflow/tfjs-core';

/** `a` with its last two axes swapped. */
export function transposeLastTwo<T extends tf.Tensor>(a: T): T {
  const perm = a.shape.map((_, i) => i);
  [perm[a.rank - 2], perm[a.rank - 1]] = [perm[a.rank - 1], perm[a.rank - 2]];
  return tf.transpose(a, perm) as T;
}

/** `aᵀ·b` (batched matMul with `a` transposed), exact on webgl too. */
export function transposedMatMul<T extends tf.Tensor>(a: T, b: tf.Tensor): T {
  return tf.tidy(() => tf.matMul(transposeLastTwo(a), b) as T);
}
