/** Plain-JS float64 references for the surrogate solvers (weighted least squares, Lasso). */

/** Solves `A x = b` (n × n) by Gaussian elimination with partial pivoting. */
export function solveLinear(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let k = 0; k < n; k++) {
    let pivot = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i][k]) > Math.abs(m[pivot][k])) pivot = i;
    [m[k], m[pivot]] = [m[pivot], m[k]];
    for (let i = k + 1; i < n; i++) {
      const f = m[i][k] / m[k][k];
      for (let j = k; j <= n; j++) m[i][j] -= f * m[k][j];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let s = m[i][n];
    for (let j = i + 1; j < n; j++) s -= m[i][j] * x[j];
    x[i] = s / m[i][i];
  }
  return x;
}

/**
 * Weighted least squares `min Σ w (y − Zφ)²`, with `Σφ = total` when given, through the KKT system
 * `[ZᵀWZ 1; 1ᵀ 0] [φ; λ] = [ZᵀWy; total]` (full column rank).
 */
export function leastSquaresKkt(z: number[][], y: number[], w: number[], total?: number): number[] {
  const m = z[0].length;
  const size = total === undefined ? m : m + 1;
  const a = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  const b = new Array<number>(size).fill(0);
  z.forEach((row, s) => {
    for (let i = 0; i < m; i++) {
      b[i] += w[s] * row[i] * y[s];
      for (let j = 0; j < m; j++) a[i][j] += w[s] * row[i] * row[j];
    }
  });
  if (total !== undefined) {
    for (let i = 0; i < m; i++) a[i][m] = a[m][i] = 1;
    b[m] = total;
  }
  return solveLinear(a, b).slice(0, m);
}

/**
 * The minimum-norm solution of the same problem with `Σφ = total`, as the limit of ridge regression:
 * `φ = total/M · 1 + ψ`, `ψ = (P A P + λ I)⁻¹ P Zᵀ W (y − Z total/M · 1)` with P the centring projector
 * and a tiny λ (float64 keeps the answer exact to ~1e-6).
 */
export function leastSquaresMinimumNorm(z: number[][], y: number[], w: number[], total: number): number[] {
  const m = z[0].length;
  const start = new Array<number>(m).fill(total / m);
  const centre = (v: number[]) => {
    const mean = v.reduce((p, q) => p + q, 0) / m;
    return v.map((x) => x - mean);
  };
  const a = Array.from({ length: m }, () => new Array<number>(m).fill(0));
  const b = new Array<number>(m).fill(0);
  z.forEach((row, s) => {
    const r = y[s] - row.reduce((p, q, j) => p + q * start[j], 0);
    for (let i = 0; i < m; i++) {
      b[i] += w[s] * row[i] * r;
      for (let j = 0; j < m; j++) a[i][j] += w[s] * row[i] * row[j];
    }
  });
  // P A P: centre the columns, then the rows.
  const columns = Array.from({ length: m }, (_, j) => centre(a.map((row) => row[j])));
  const pap = Array.from({ length: m }, (_, i) => centre(columns.map((c) => c[i])));
  const trace = pap.reduce((s, row, i) => s + row[i], 0);
  const lambda = 1e-10 * (trace / m);
  const psi = solveLinear(
    pap.map((row, i) => row.map((v, j) => v + (i === j ? lambda : 0))),
    centre(b),
  );
  return start.map((s, j) => s + psi[j]);
}

/**
 * scikit-learn's weighted Lasso with intercept: weights rescaled to sum to n, weighted centring, then
 * cyclic coordinate descent on the √w-scaled residual (the textbook form, not the Gram form) until no
 * coefficient moves by more than 1e-13.
 */
export function lassoReference(z: number[][], y: number[], w: number[], alpha: number): { coefficients: number[]; intercept: number } {
  const n = y.length;
  const m = z[0].length;
  const total = w.reduce((a, b) => a + b, 0);
  const sw = w.map((v) => (v * n) / total);
  const meanZ = Array.from({ length: m }, (_, j) => z.reduce((s, row, i) => s + sw[i] * row[j], 0) / n);
  const meanY = y.reduce((s, v, i) => s + sw[i] * v, 0) / n;
  const x = z.map((row, i) => row.map((v, j) => Math.sqrt(sw[i]) * (v - meanZ[j])));
  const r = y.map((v, i) => Math.sqrt(sw[i]) * (v - meanY));
  const beta = new Array<number>(m).fill(0);
  const norms = Array.from({ length: m }, (_, j) => x.reduce((s, row) => s + row[j] * row[j], 0));
  for (let sweep = 0; sweep < 100000; sweep++) {
    let moved = 0;
    for (let j = 0; j < m; j++) {
      if (norms[j] === 0) continue;
      let rho = 0;
      for (let i = 0; i < n; i++) rho += x[i][j] * (r[i] + x[i][j] * beta[j]);
      const next = (Math.sign(rho) * Math.max(Math.abs(rho) - alpha * n, 0)) / norms[j];
      const delta = next - beta[j];
      if (delta !== 0) for (let i = 0; i < n; i++) r[i] -= x[i][j] * delta;
      moved = Math.max(moved, Math.abs(delta));
      beta[j] = next;
    }
    if (moved < 1e-13) break;
  }
  return { coefficients: beta, intercept: meanY - meanZ.reduce((s, v, j) => s + v * beta[j], 0) };
}
