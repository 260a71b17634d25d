/**
 * A plain-JavaScript float64 reference of the Gaussian-copula estimators (Ince et al. 2017), written
 * independently of the library: its own stable ranks (a sort), Φ⁻¹ by bisection on Marsaglia's series
 * for Φ, log-determinants by LU decomposition with partial pivoting (not Cholesky), and ψ at the
 * integers and half-integers the bias terms need from its exact finite sums. A variable is a list of
 * columns, each an array of N samples.
 */

export type Columns = ArrayLike<number>[];

/** Φ(x) by Marsaglia's series (2004), accurate to ~1e-15 absolute. */
function normalCdf(x: number): number {
  let sum = x;
  let term = x;
  for (let i = 3; i < 400; i += 2) {
    term *= (x * x) / i;
    const next = sum + term;
    if (next === sum) break;
    sum = next;
  }
  return 0.5 + sum * Math.exp(-0.5 * x * x - 0.9189385332046728);
}

const quantiles = new Map<number, Float64Array>();

/** Φ⁻¹(r/(N + 1)) for r = 1..N, by bisection (cached per N). */
export function referenceNormalScores(n: number): Float64Array {
  const cached = quantiles.get(n);
  if (cached) return cached;
  const out = new Float64Array(n);
  for (let r = 1; r <= n; r++) {
    const p = r / (n + 1);
    let lo = -12;
    let hi = 12;
    for (let k = 0; k < 80; k++) {
      const mid = (lo + hi) / 2;
      if (normalCdf(mid) < p) lo = mid;
      else hi = mid;
    }
    out[r - 1] = (lo + hi) / 2;
  }
  quantiles.set(n, out);
  return out;
}

/** Stable 0-based ranks of a column (ties in sample order). */
export function referenceRanks(column: ArrayLike<number>): Int32Array {
  const order = Array.from({ length: column.length }, (_, i) => i).sort((a, b) => column[a] - column[b] || a - b);
  const ranks = new Int32Array(column.length);
  order.forEach((sample, rank) => (ranks[sample] = rank));
  return ranks;
}

/** Copula transform of every column. */
export function referenceCopnorm(columns: Columns): Float64Array[] {
  return columns.map((column) => {
    const scores = referenceNormalScores(column.length);
    return Float64Array.from(referenceRanks(column), (r) => scores[r]);
  });
}

/** ψ(x) for x an integer or half-integer ≥ ½, from its exact sums. */
export function referenceDigamma(x: number): number {
  const euler = 0.5772156649015329;
  if (Number.isInteger(x)) {
    let s = -euler;
    for (let j = 1; j < x; j++) s += 1 / j;
    return s;
  }
  if (!Number.isInteger(2 * x)) throw new Error(`referenceDigamma: ${x} is not a half-integer`);
  let s = -euler - 2 * Math.LN2;
  for (let j = 1; j <= x - 0.5; j++) s += 2 / (2 * j - 1);
  return s;
}

/** The bias term B(N, d) of the entropy of d dimensions from N samples. */
export function referenceBias(n: number, d: number): number {
  let s = (d * (Math.LN2 - Math.log(n - 1))) / 2;
  for (let k = 1; k <= d; k++) s += referenceDigamma((n - k) / 2) / 2;
  return s;
}

/** ½ log det of a symmetric positive definite matrix by LU with partial pivoting (−∞ when singular). */
export function referenceHalfLogDet(matrix: number[][]): number {
  const a = matrix.map((row) => row.slice());
  const size = a.length;
  let logDet = 0;
  for (let c = 0; c < size; c++) {
    let pivot = c;
    for (let r = c + 1; r < size; r++) if (Math.abs(a[r][c]) > Math.abs(a[pivot][c])) pivot = r;
    [a[c], a[pivot]] = [a[pivot], a[c]];
    if (a[c][c] === 0) return -Infinity;
    logDet += Math.log(Math.abs(a[c][c]));
    for (let r = c + 1; r < size; r++) {
      const f = a[r][c] / a[c][c];
      for (let k = c; k < size; k++) a[r][k] -= f * a[c][k];
    }
  }
  return logDet / 2;
}

/** Covariance `XᵀX/(N − 1)` of the columns, demeaned first when asked. */
export function referenceCovariance(columns: Columns, demean: boolean): number[][] {
  const n = columns[0].length;
  const centred = columns.map((column) => {
    let mean = 0;
    if (demean) for (let i = 0; i < n; i++) mean += column[i] / n;
    return Float64Array.from(column, (v) => v - mean);
  });
  return centred.map((a) => centred.map((b) => a.reduce((s, v, i) => s + v * b[i], 0) / (n - 1)));
}

function pick(matrix: number[][], indices: number[]): number[][] {
  return indices.map((r) => indices.map((c) => matrix[r][c]));
}

const range = (start: number, count: number) => Array.from({ length: count }, (_, i) => start + i);

/** Entropy term `h(C_S) − B(N, |S|)` (nats). */
function term(cov: number[][], indices: number[], n: number, biasCorrect: boolean): number {
  const h = referenceHalfLogDet(pick(cov, indices));
  return biasCorrect ? h - referenceBias(n, indices.length) : h;
}

/** gcmi `ent_g` (bits). */
export function referenceEntropy(x: Columns, biasCorrect = true): number {
  const d = x.length;
  const n = x[0].length;
  const h = term(referenceCovariance(x, true), range(0, d), n, biasCorrect);
  return (h + (d / 2) * (Math.log(2 * Math.PI) + 1)) / Math.LN2;
}

/** gcmi `mi_gg` (bits); `demean = false` for copula scores. */
export function referenceMI(x: Columns, y: Columns, biasCorrect = true, demean = true): number {
  const n = x[0].length;
  const cov = referenceCovariance([...x, ...y], demean);
  const [dx, dy] = [x.length, y.length];
  const value = term(cov, range(0, dx), n, biasCorrect) + term(cov, range(dx, dy), n, biasCorrect) - term(cov, range(0, dx + dy), n, biasCorrect);
  return value / Math.LN2;
}

/** gcmi `cmi_ggg` (bits). */
export function referenceCMI(x: Columns, y: Columns, z: Columns, biasCorrect = true, demean = true): number {
  const n = x[0].length;
  const cov = referenceCovariance([...x, ...y, ...z], demean);
  const [dx, dy, dz] = [x.length, y.length, z.length];
  const xs = range(0, dx);
  const ys = range(dx, dy);
  const zs = range(dx + dy, dz);
  const value =
    term(cov, [...xs, ...zs], n, biasCorrect) + term(cov, [...ys, ...zs], n, biasCorrect) - term(cov, [...xs, ...ys, ...zs], n, biasCorrect) - term(cov, zs, n, biasCorrect);
  return value / Math.LN2;
}

/** gcmi `gcmi_cc` (bits). */
export function referenceGcmi(x: Columns, y: Columns): number {
  return referenceMI(referenceCopnorm(x), referenceCopnorm(y), true, false);
}

/** gcmi `gccmi_ccc` (bits). */
export function referenceGccmi(x: Columns, y: Columns, z: Columns): number {
  return referenceCMI(referenceCopnorm(x), referenceCopnorm(y), referenceCopnorm(z), true, false);
}

/** gcmi `gcmi_model_cd` (bits). */
export function referenceGcmiDiscrete(x: Columns, labels: ArrayLike<number>, numClasses: number): number {
  const cx = referenceCopnorm(x);
  const n = labels.length;
  const d = x.length;
  const unconditional = term(referenceCovariance(cx, false), range(0, d), n, true);
  let conditional = 0;
  for (let k = 0; k < numClasses; k++) {
    const members = range(0, n).filter((i) => labels[i] === k);
    const within = cx.map((column) => members.map((i) => column[i]));
    conditional += (members.length / n) * term(referenceCovariance(within, true), range(0, d), members.length, true);
  }
  return (unconditional - conditional) / Math.LN2;
}

/** gcmi `gccmi_ccd`'s conditional information Σ_k p(k) gcmi(x_k, y_k) (bits). */
export function referenceGccmiDiscrete(x: Columns, y: Columns, labels: ArrayLike<number>, numClasses: number): number {
  const n = labels.length;
  let sum = 0;
  for (let k = 0; k < numClasses; k++) {
    const members = range(0, n).filter((i) => labels[i] === k);
    const within = (v: Columns) => v.map((column) => members.map((i) => column[i]));
    sum += (members.length / n) * referenceGcmi(within(x), within(y));
  }
  return sum;
}

/** Columns of a row-major `[N, D]` array. */
export function columnsOf(values: ArrayLike<number>, n: number, d: number): Float64Array[] {
  return range(0, d).map((c) => Float64Array.from(range(0, n), (i) => values[i * d + c]));
}

/** A factor for {@link referenceUnitInformation}: labels, or the columns of a continuous variable. */
export type ReferenceFactor = { labels: ArrayLike<number>; numClasses: number } | { columns: Columns };

/**
 * The per-unit information of every column of row-major activations `[N, units]` with one factor, in
 * plain float64 loops (one sort per unit, then sums): `gcmi_model_cd` with d = 1 for labels,
 * `gcmi_cc` with a univariate x for a continuous factor. The straightforward JavaScript baseline of
 * the benchmark; the tests check it against {@link referenceGcmiDiscrete} and {@link referenceGcmi}.
 */
export function referenceUnitInformation(activations: ArrayLike<number>, n: number, units: number, factor: ReferenceFactor): Float64Array {
  const scores = referenceNormalScores(n);
  const order = new Int32Array(n);
  const column = new Float64Array(n);
  const copula = new Float64Array(n);
  const out = new Float64Array(units);
  const continuous = 'columns' in factor ? referenceCopnorm(factor.columns) : null;
  const dims = continuous?.length ?? 0;
  const factorCovariance = continuous ? referenceCovariance(continuous, false) : null;
  const factorTerm = factorCovariance ? referenceHalfLogDet(factorCovariance) - referenceBias(n, dims) : 0;
  const counts = new Float64Array('labels' in factor ? factor.numClasses : 0);
  if ('labels' in factor) for (let i = 0; i < n; i++) counts[factor.labels[i]]++;
  for (let u = 0; u < units; u++) {
    for (let i = 0; i < n; i++) {
      column[i] = activations[i * units + u];
      order[i] = i;
    }
    order.sort((a, b) => column[a] - column[b] || a - b);
    for (let r = 0; r < n; r++) copula[order[r]] = scores[r];
    let squares = 0;
    for (let i = 0; i < n; i++) squares += copula[i] * copula[i];
    const unitTerm = 0.5 * Math.log(squares / (n - 1)) - referenceBias(n, 1);
    if ('labels' in factor) {
      const sums = new Float64Array(counts.length);
      for (let i = 0; i < n; i++) sums[factor.labels[i]] += copula[i];
      const deviations = new Float64Array(counts.length);
      for (let i = 0; i < n; i++) {
        const k = factor.labels[i];
        deviations[k] += (copula[i] - sums[k] / counts[k]) ** 2;
      }
      let conditional = 0;
      counts.forEach((count, k) => (conditional += (count / n) * (0.5 * Math.log(deviations[k] / (count - 1)) - referenceBias(count, 1))));
      out[u] = (unitTerm - conditional) / Math.LN2;
    } else {
      const joint = [[squares / (n - 1), ...continuous!.map((c) => c.reduce((s, v, i) => s + v * copula[i], 0) / (n - 1))]];
      factorCovariance!.forEach((row, d) => joint.push([joint[0][d + 1], ...row]));
      out[u] = (unitTerm + factorTerm - (referenceHalfLogDet(joint) - referenceBias(n, dims + 1))) / Math.LN2;
    }
  }
  return out;
}
