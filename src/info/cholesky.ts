/**
 * Log-determinants of small covariance matrices in float64 JavaScript: the matrices are D×D with D
 * the number of variables (read back once from the backend), so a plain Cholesky decomposition costs
 * nothing next to the matMul over samples that built them.
 */

/** A symmetric matrix, row-major, with its size. */
export interface SquareMatrix {
  size: number;
  values: Float64Array;
}

/**
 * Pivots of at most this share of their diagonal entry count as zero. The matrices are computed in
 * float32, whose rounding (2⁻²⁴ relative, summed over samples) cannot resolve smaller ones; a pivot
 * share p is a squared partial correlation of 1 − p, i.e. ½·log₂(1/p) = 10 bits of information.
 */
export const SINGULAR_PIVOT_SHARE = 2 ** -20;

/**
 * The lower Cholesky factor L of a symmetric positive definite matrix (`A = L Lᵀ`), row-major, or
 * `null` when A is not (numerically) positive definite: a pivot not above {@link SINGULAR_PIVOT_SHARE}
 * times the diagonal entry it came from. With `saturate`, such pivots are raised to that share instead
 * (every variable then keeps at least 2⁻²⁰ of its variance: information saturates at 10 bits per
 * dimension, as in the per-unit estimator); only a non-positive diagonal still gives `null`.
 */
export function cholesky({ size, values }: SquareMatrix, saturate = false): Float64Array | null {
  const l = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j <= i; j++) {
      let s = values[i * size + j];
      for (let k = 0; k < j; k++) s -= l[i * size + k] * l[j * size + k];
      if (i === j) {
        const diagonal = values[i * size + i];
        const floor = SINGULAR_PIVOT_SHARE * diagonal;
        if (!(diagonal > 0) || (!saturate && !(s > floor))) return null;
        l[i * size + i] = Math.sqrt(saturate ? Math.max(s, floor) : s);
      } else {
        l[i * size + j] = s / l[j * size + j];
      }
    }
  }
  return l;
}

/** `Σ log diag chol(A) = ½ log det A`, or `null` when A is not positive definite (see {@link cholesky}). */
export function halfLogDet(matrix: SquareMatrix, saturate = false): number | null {
  const l = cholesky(matrix, saturate);
  if (l === null) return null;
  let sum = 0;
  for (let i = 0; i < matrix.size; i++) sum += Math.log(l[i * matrix.size + i]);
  return sum;
}

/** The square submatrix of `matrix` on the rows and columns `indices`. */
export function submatrix(matrix: SquareMatrix, indices: number[]): SquareMatrix {
  const size = indices.length;
  const values = new Float64Array(size * size);
  indices.forEach((r, i) => indices.forEach((c, j) => (values[i * size + j] = matrix.values[r * matrix.size + c])));
  return { size, values };
}

/** The inverse of a lower triangular matrix (row-major), by forward substitution. */
export function invertLower(l: Float64Array, size: number): Float64Array {
  const inverse = new Float64Array(size * size);
  for (let c = 0; c < size; c++) {
    for (let i = c; i < size; i++) {
      let s = i === c ? 1 : 0;
      for (let k = c; k < i; k++) s -= l[i * size + k] * inverse[k * size + c];
      inverse[i * size + c] = s / l[i * size + i];
    }
  }
  return inverse;
}
