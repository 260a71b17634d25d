import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { transposedMatMul } from '../../src/core/transposed-matmul';
import { expectNoLeak } from '../helpers';

/** Plain-JS `aᵀ·b` of row-major `[n, p]` and `[n, q]`. */
function referenceGram(a: ArrayLike<number>, b: ArrayLike<number>, n: number, p: number, q: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < p; i++) for (let j = 0; j < q; j++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += a[k * p + i] * b[k * q + j];
    out.push(s);
  }
  return out;
}

describe('transposedMatMul', () => {
  it('equals aᵀ·b for odd contracted axes on operands that come out of other ops (webgl transposeA bug)', async () => {
    for (const [n, p, q] of [[3, 1, 1], [5, 3, 2], [7, 4, 4], [240, 2, 2]]) {
      const raw = tf.randomNormal([n, p], 0, 1, 'float32', n);
      const other = tf.randomNormal([n, q], 0, 1, 'float32', n + 1);
      const a = tf.sub(raw, tf.mean(raw, 0, true));
      const b = tf.mul(other, 2);
      const expected = referenceGram(await a.data(), await b.data(), n, p, q);
      await expectNoLeak(async () => {
        const product = transposedMatMul(a, b);
        expect(product.shape).toEqual([p, q]);
        const values = Array.from(await product.data());
        values.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 4));
        product.dispose();
      });
      tf.dispose([raw, other, a, b]);
    }
  });

  it('batches over leading axes', async () => {
    const a = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 3, 2]);
    const b = tf.tensor3d([1, 0, 2, 1, 0, 1], [2, 3, 1]);
    const product = transposedMatMul(a, b);
    expect(product.shape).toEqual([2, 2, 1]);
    expect(Array.from(await product.data())).toEqual([1 + 5 * 2, 2 + 6 * 2, 7 + 11, 8 + 12]);
    tf.dispose([a, b, product]);
  });
});
