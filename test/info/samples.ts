/** Seeded test data for the information tests: correlated Gaussian samples, labels and their columns. */
import * as tf from '@tensorflow/tfjs-core';
import { seededValues } from '../helpers';

/** `count` standard normal numbers (Box–Muller on seeded uniforms), float64. */
export function normalValues(count: number, seed: number): Float64Array {
  const u = seededValues(2 * count, seed);
  return Float64Array.from({ length: count }, (_, i) => {
    const u1 = (u[2 * i] + 1) / 2 + 1e-9;
    const u2 = (u[2 * i + 1] + 1) / 2;
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  });
}

/**
 * `[N, D]` rows of a Gaussian with the given lower-triangular mixing: `row = L · e` for standard normal e.
 * Returns the values rounded to float32, so the library and the reference see the same numbers.
 */
export function mixedGaussian(n: number, mixing: number[][], seed: number): Float32Array {
  const d = mixing.length;
  const e = normalValues(n * d, seed);
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < d; r++) {
      let v = 0;
      for (let c = 0; c < d; c++) v += mixing[r][c] * e[i * d + c];
      out[i * d + r] = v;
    }
  }
  return out;
}

/** Columns `[from, from + count)` of a row-major `[N, D]` array. */
export function columns(values: ArrayLike<number>, n: number, d: number, from = 0, count = d): Float64Array[] {
  return Array.from({ length: count }, (_, c) => Float64Array.from({ length: n }, (_, i) => values[i * d + from + c]));
}

/** `[N, count]` tensor of columns `[from, from + count)` of a row-major `[N, D]` array. */
export function block(values: Float32Array, n: number, d: number, from: number, count: number): tf.Tensor2D {
  const out = new Float32Array(n * count);
  for (let i = 0; i < n; i++) for (let c = 0; c < count; c++) out[i * count + c] = values[i * d + from + c];
  return tf.tensor2d(out, [n, count]);
}

/** Labels 0..k−1 in a seeded order, every class with ⌊N/k⌋ or ⌈N/k⌉ samples. */
export function balancedLabels(n: number, k: number, seed: number): Int32Array {
  const labels = Int32Array.from({ length: n }, (_, i) => i % k);
  const u = seededValues(n, seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(((u[i] + 1) / 2) * (i + 1));
    [labels[i], labels[j]] = [labels[j], labels[i]];
  }
  return labels;
}

/** |actual − expected| ≤ absolute + relative·|expected|. */
export function near(actual: number, expected: number, absolute: number, relative = 0): boolean {
  return Math.abs(actual - expected) <= absolute + relative * Math.abs(expected);
}
