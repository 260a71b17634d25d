/**
 * The digamma function ψ(x) = d/dx ln Γ(x) for x > 0, in float64 JavaScript (it only enters the
 * scalar bias terms of the Gaussian estimators).
 *
 * The recurrence ψ(x) = ψ(x + 1) − 1/x moves the argument to x ≥ 10, where the asymptotic series
 * `ψ(x) = ln x − 1/(2x) − Σ_k B_{2k} / (2k x^{2k})` (Abramowitz & Stegun 6.3.18) with the Bernoulli
 * numbers up to B₁₄ is accurate to about 1e-16.
 */
export function digamma(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) throw new RangeError(`digamma: expected a finite positive argument, got ${x}`);
  let shift = 0;
  let v = x;
  while (v < 10) {
    shift += 1 / v;
    v += 1;
  }
  const inv2 = 1 / (v * v);
  // B_{2k} / (2k) for k = 1..7: 1/12, −1/120, 1/252, −1/240, 1/132, −691/32760, 1/12.
  const series =
    inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 * (1 / 132 - inv2 * (691 / 32760 - inv2 / 12))))));
  return Math.log(v) - 0.5 / v - series - shift;
}
